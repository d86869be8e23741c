from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.device import Device


T = TypeVar("T", bound="Enrolled")


@_attrs_define
class Enrolled:
    """The answer to an enrollment: the only time the secret leaves twofold.

    Attributes:
        device (Device): A device as the API shows it: never a secret.
        expires_at (datetime.datetime):
        otpauth_uri (str):
        qr_svg (str): The QR code of `otpauth_uri`, as inline SVG.
        secret (str): Base32, no padding: for typing into an app by hand.
    """

    device: Device
    expires_at: datetime.datetime
    otpauth_uri: str
    qr_svg: str
    secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device.to_dict()

        expires_at = self.expires_at.isoformat()

        otpauth_uri = self.otpauth_uri

        qr_svg = self.qr_svg

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "expires_at": expires_at,
                "otpauth_uri": otpauth_uri,
                "qr_svg": qr_svg,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.device import Device

        d = dict(src_dict)
        device = Device.from_dict(d.pop("device"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        otpauth_uri = d.pop("otpauth_uri")

        qr_svg = d.pop("qr_svg")

        secret = d.pop("secret")

        enrolled = cls(
            device=device,
            expires_at=expires_at,
            otpauth_uri=otpauth_uri,
            qr_svg=qr_svg,
            secret=secret,
        )

        enrolled.additional_properties = d
        return enrolled

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
