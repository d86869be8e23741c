from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.tenant_breaker import TenantBreaker


T = TypeVar("T", bound="BreakerStatus")


@_attrs_define
class BreakerStatus:
    """
    Attributes:
        sent_today (int): Messages counted against the global budget today (UTC).
        tripped (bool): True while the global budget's breaker refuses every send with `sms_budget_exhausted`.
        tenant (None | TenantBreaker | Unset):
    """

    sent_today: int
    tripped: bool
    tenant: None | TenantBreaker | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.tenant_breaker import TenantBreaker

        sent_today = self.sent_today

        tripped = self.tripped

        tenant: dict[str, Any] | None | Unset
        if isinstance(self.tenant, Unset):
            tenant = UNSET
        elif isinstance(self.tenant, TenantBreaker):
            tenant = self.tenant.to_dict()
        else:
            tenant = self.tenant

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sent_today": sent_today,
                "tripped": tripped,
            }
        )
        if tenant is not UNSET:
            field_dict["tenant"] = tenant

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.tenant_breaker import TenantBreaker

        d = dict(src_dict)
        sent_today = d.pop("sent_today")

        tripped = d.pop("tripped")

        def _parse_tenant(data: object) -> None | TenantBreaker | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tenant_type_1 = TenantBreaker.from_dict(data)

                return tenant_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TenantBreaker | Unset, data)

        tenant = _parse_tenant(d.pop("tenant", UNSET))

        breaker_status = cls(
            sent_today=sent_today,
            tripped=tripped,
            tenant=tenant,
        )

        breaker_status.additional_properties = d
        return breaker_status

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
