from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WebauthnChallengeRequest")


@_attrs_define
class WebauthnChallengeRequest:
    """
    Attributes:
        device_id (None | str | Unset): Allow only this key.
        origin (None | str | Unset): The origin of the page that runs the ceremony, as for registration. Example:
            https://shop.example.
    """

    device_id: None | str | Unset = UNSET
    origin: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        device_id: None | str | Unset
        if isinstance(self.device_id, Unset):
            device_id = UNSET
        else:
            device_id = self.device_id

        origin: None | str | Unset
        if isinstance(self.origin, Unset):
            origin = UNSET
        else:
            origin = self.origin

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if device_id is not UNSET:
            field_dict["device_id"] = device_id
        if origin is not UNSET:
            field_dict["origin"] = origin

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_device_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_id = _parse_device_id(d.pop("device_id", UNSET))

        def _parse_origin(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        origin = _parse_origin(d.pop("origin", UNSET))

        webauthn_challenge_request = cls(
            device_id=device_id,
            origin=origin,
        )

        return webauthn_challenge_request
