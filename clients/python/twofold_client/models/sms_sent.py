from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SmsSent")


@_attrs_define
class SmsSent:
    """
    Attributes:
        device_id (str):
        expires_in (int):
        notice (str):
        resend_after (int):
    """

    device_id: str
    expires_in: int
    notice: str
    resend_after: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device_id = self.device_id

        expires_in = self.expires_in

        notice = self.notice

        resend_after = self.resend_after

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device_id": device_id,
                "expires_in": expires_in,
                "notice": notice,
                "resend_after": resend_after,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        device_id = d.pop("device_id")

        expires_in = d.pop("expires_in")

        notice = d.pop("notice")

        resend_after = d.pop("resend_after")

        sms_sent = cls(
            device_id=device_id,
            expires_in=expires_in,
            notice=notice,
            resend_after=resend_after,
        )

        sms_sent.additional_properties = d
        return sms_sent

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
