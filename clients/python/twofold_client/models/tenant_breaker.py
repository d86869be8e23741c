from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TenantBreaker")


@_attrs_define
class TenantBreaker:
    """
    Attributes:
        id (str):
        sent_today (int): Messages counted against the tenant's budget today (UTC).
        tripped (bool): True while the tenant's own budget's breaker refuses its sends.
    """

    id: str
    sent_today: int
    tripped: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        sent_today = self.sent_today

        tripped = self.tripped

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sent_today": sent_today,
                "tripped": tripped,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        sent_today = d.pop("sent_today")

        tripped = d.pop("tripped")

        tenant_breaker = cls(
            id=id,
            sent_today=sent_today,
            tripped=tripped,
        )

        tenant_breaker.additional_properties = d
        return tenant_breaker

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
