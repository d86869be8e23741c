from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ResyncBody")


@_attrs_define
class ResyncBody:
    """
    Attributes:
        first (str): A code of the token…
        second (str): …and the next one it shows.
    """

    first: str
    second: str

    def to_dict(self) -> dict[str, Any]:
        first = self.first

        second = self.second

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "first": first,
                "second": second,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        first = d.pop("first")

        second = d.pop("second")

        resync_body = cls(
            first=first,
            second=second,
        )

        return resync_body
