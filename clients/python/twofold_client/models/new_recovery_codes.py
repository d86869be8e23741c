from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewRecoveryCodes")


@_attrs_define
class NewRecoveryCodes:
    """The optional body of a new set.

    Attributes:
        step_up (None | str | Unset): An assertion of this user at most 5 minutes old, used once: needed when the user
            has an
            active device, unless the caller is an admin key (SEC-7).
    """

    step_up: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        step_up: None | str | Unset
        if isinstance(self.step_up, Unset):
            step_up = UNSET
        else:
            step_up = self.step_up

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if step_up is not UNSET:
            field_dict["step_up"] = step_up

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_step_up(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        step_up = _parse_step_up(d.pop("step_up", UNSET))

        new_recovery_codes = cls(
            step_up=step_up,
        )

        return new_recovery_codes
