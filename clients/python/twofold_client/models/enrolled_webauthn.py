from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.device import Device
    from ..models.enrolled_webauthn_options import EnrolledWebauthnOptions


T = TypeVar("T", bound="EnrolledWebauthn")


@_attrs_define
class EnrolledWebauthn:
    """A pending security key and what the browser needs to register it.

    Attributes:
        device (Device): A device as the API shows it: never a secret.
        expires_at (datetime.datetime):
        options (EnrolledWebauthnOptions): `{publicKey: …}`: pass it to `navigator.credentials.create()` (binary fields
            are
            base64url; `PublicKeyCredential.parseCreationOptionsFromJSON` takes `publicKey`), then
            send the result to `…/devices/{id}/confirm` as `credential`.
    """

    device: Device
    expires_at: datetime.datetime
    options: EnrolledWebauthnOptions
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device.to_dict()

        expires_at = self.expires_at.isoformat()

        options = self.options.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "expires_at": expires_at,
                "options": options,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.device import Device
        from ..models.enrolled_webauthn_options import EnrolledWebauthnOptions

        d = dict(src_dict)
        device = Device.from_dict(d.pop("device"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        options = EnrolledWebauthnOptions.from_dict(d.pop("options"))

        enrolled_webauthn = cls(
            device=device,
            expires_at=expires_at,
            options=options,
        )

        enrolled_webauthn.additional_properties = d
        return enrolled_webauthn

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
