from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.device import Device


T = TypeVar("T", bound="EnrolledSms")


@_attrs_define
class EnrolledSms:
    """
    Attributes:
        device (Device): A device as the API shows it: never a secret.
        expires_in (int): When the sent code expires, in seconds.
        notice (str):
        resend_after (int): When a new code may be asked for, in seconds.
    """

    device: Device
    expires_in: int
    notice: str
    resend_after: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device.to_dict()

        expires_in = self.expires_in

        notice = self.notice

        resend_after = self.resend_after

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "expires_in": expires_in,
                "notice": notice,
                "resend_after": resend_after,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.device import Device

        d = dict(src_dict)
        device = Device.from_dict(d.pop("device"))

        expires_in = d.pop("expires_in")

        notice = d.pop("notice")

        resend_after = d.pop("resend_after")

        enrolled_sms = cls(
            device=device,
            expires_in=expires_in,
            notice=notice,
            resend_after=resend_after,
        )

        enrolled_sms.additional_properties = d
        return enrolled_sms

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
