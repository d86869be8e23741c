from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EnrollSms")


@_attrs_define
class EnrollSms:
    """
    Attributes:
        phone (str): `+`, the country code and the number; spaces, hyphens, dots and parentheses between the
            digits are ignored, e.g. `+33 6 12 34 56 78`. Stored as E.164 (`+33612345678`). Mobile
            numbers of allowed countries only.
        label (None | str | Unset): Default: the number's calling code and last two digits.
        step_up (None | str | Unset): As for a TOTP device (SEC-7).
    """

    phone: str
    label: None | str | Unset = UNSET
    step_up: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        phone = self.phone

        label: None | str | Unset
        if isinstance(self.label, Unset):
            label = UNSET
        else:
            label = self.label

        step_up: None | str | Unset
        if isinstance(self.step_up, Unset):
            step_up = UNSET
        else:
            step_up = self.step_up

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "phone": phone,
            }
        )
        if label is not UNSET:
            field_dict["label"] = label
        if step_up is not UNSET:
            field_dict["step_up"] = step_up

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        phone = d.pop("phone")

        def _parse_label(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        label = _parse_label(d.pop("label", UNSET))

        def _parse_step_up(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        step_up = _parse_step_up(d.pop("step_up", UNSET))

        enroll_sms = cls(
            phone=phone,
            label=label,
            step_up=step_up,
        )

        return enroll_sms
