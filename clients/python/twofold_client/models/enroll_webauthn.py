from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EnrollWebauthn")


@_attrs_define
class EnrollWebauthn:
    """
    Attributes:
        display_name (None | str | Unset): The name the authenticator may show for the account (1–64 characters);
            default: the user
            id.
        label (None | str | Unset): twofold's name for the device; unique per user; default "Security key" (then
            "Security
            key 2", …).
        origin (None | str | Unset): The origin of the page that runs the ceremony, when it is the relying party's own
            (registered on the API key with `api-key create --webauthn-origin`); default: twofold's
            public origin, as the hosted pages use. Example: https://shop.example.
        step_up (None | str | Unset): An assertion of this user from a verify at most 5 minutes old: needed when the
            user
            already has an active device, unless the caller is an admin key (SEC-7).
    """

    display_name: None | str | Unset = UNSET
    label: None | str | Unset = UNSET
    origin: None | str | Unset = UNSET
    step_up: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        display_name: None | str | Unset
        if isinstance(self.display_name, Unset):
            display_name = UNSET
        else:
            display_name = self.display_name

        label: None | str | Unset
        if isinstance(self.label, Unset):
            label = UNSET
        else:
            label = self.label

        origin: None | str | Unset
        if isinstance(self.origin, Unset):
            origin = UNSET
        else:
            origin = self.origin

        step_up: None | str | Unset
        if isinstance(self.step_up, Unset):
            step_up = UNSET
        else:
            step_up = self.step_up

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
        if label is not UNSET:
            field_dict["label"] = label
        if origin is not UNSET:
            field_dict["origin"] = origin
        if step_up is not UNSET:
            field_dict["step_up"] = step_up

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_display_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        display_name = _parse_display_name(d.pop("display_name", UNSET))

        def _parse_label(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        label = _parse_label(d.pop("label", UNSET))

        def _parse_origin(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        origin = _parse_origin(d.pop("origin", UNSET))

        def _parse_step_up(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        step_up = _parse_step_up(d.pop("step_up", UNSET))

        enroll_webauthn = cls(
            display_name=display_name,
            label=label,
            origin=origin,
            step_up=step_up,
        )

        return enroll_webauthn
