from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.method import Method
from ..types import UNSET, Unset

T = TypeVar("T", bound="Verified")


@_attrs_define
class Verified:
    """
    Attributes:
        assertion (str): A signed JWT (EdDSA) the relying party verifies against `/.well-known/jwks.json`.
        method (Method): How the second factor was proven.
        verified (bool):
        device_id (None | str | Unset): The device whose code passed; `null` for a recovery code.
    """

    assertion: str
    method: Method
    verified: bool
    device_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        assertion = self.assertion

        method = self.method.value

        verified = self.verified

        device_id: None | str | Unset
        if isinstance(self.device_id, Unset):
            device_id = UNSET
        else:
            device_id = self.device_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "assertion": assertion,
                "method": method,
                "verified": verified,
            }
        )
        if device_id is not UNSET:
            field_dict["device_id"] = device_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        assertion = d.pop("assertion")

        method = Method(d.pop("method"))

        verified = d.pop("verified")

        def _parse_device_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_id = _parse_device_id(d.pop("device_id", UNSET))

        verified = cls(
            assertion=assertion,
            method=method,
            verified=verified,
            device_id=device_id,
        )

        verified.additional_properties = d
        return verified

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
