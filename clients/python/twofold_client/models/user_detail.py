from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.device import Device
    from ..models.lock_state import LockState


T = TypeVar("T", bound="UserDetail")


@_attrs_define
class UserDetail:
    """One account as an admin sees it: every device, whatever its status; never a secret.

    Attributes:
        created_at (datetime.datetime):
        devices (list[Device]): Oldest first; a pending device past its confirmation window shows `expired`.
        lock (LockState): A user's failure state.
        recovery_codes_left (int):
        tenant (str):
        user (str):
    """

    created_at: datetime.datetime
    devices: list[Device]
    lock: LockState
    recovery_codes_left: int
    tenant: str
    user: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        devices = []
        for devices_item_data in self.devices:
            devices_item = devices_item_data.to_dict()
            devices.append(devices_item)

        lock = self.lock.to_dict()

        recovery_codes_left = self.recovery_codes_left

        tenant = self.tenant

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "devices": devices,
                "lock": lock,
                "recovery_codes_left": recovery_codes_left,
                "tenant": tenant,
                "user": user,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.device import Device
        from ..models.lock_state import LockState

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        devices = []
        _devices = d.pop("devices")
        for devices_item_data in _devices:
            devices_item = Device.from_dict(devices_item_data)

            devices.append(devices_item)

        lock = LockState.from_dict(d.pop("lock"))

        recovery_codes_left = d.pop("recovery_codes_left")

        tenant = d.pop("tenant")

        user = d.pop("user")

        user_detail = cls(
            created_at=created_at,
            devices=devices,
            lock=lock,
            recovery_codes_left=recovery_codes_left,
            tenant=tenant,
            user=user,
        )

        user_detail.additional_properties = d
        return user_detail

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
