from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiKey")


@_attrs_define
class ApiKey:
    """A key as listed and as attached to an authenticated request; never the key itself.

    Attributes:
        created_at (datetime.datetime):
        id (str):
        name (str):
        return_url_prefixes (list[str]):
        role (Role):
        webauthn_origins (list[str]): Origins of the relying party's pages that run security-key ceremonies.
        display_name (None | str | Unset): What its hosted pages call the site; `null`: the tenant's name.
        revoked_at (datetime.datetime | None | Unset):
        tenant (None | str | Unset): `null` for an admin key that acts on every tenant.
        webauthn_rp_id (None | str | Unset): Their RP ID; `null`: each origin's host.
    """

    created_at: datetime.datetime
    id: str
    name: str
    return_url_prefixes: list[str]
    role: Role
    webauthn_origins: list[str]
    display_name: None | str | Unset = UNSET
    revoked_at: datetime.datetime | None | Unset = UNSET
    tenant: None | str | Unset = UNSET
    webauthn_rp_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        id = self.id

        name = self.name

        return_url_prefixes = self.return_url_prefixes

        role = self.role.value

        webauthn_origins = self.webauthn_origins

        display_name: None | str | Unset
        if isinstance(self.display_name, Unset):
            display_name = UNSET
        else:
            display_name = self.display_name

        revoked_at: None | str | Unset
        if isinstance(self.revoked_at, Unset):
            revoked_at = UNSET
        elif isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        tenant: None | str | Unset
        if isinstance(self.tenant, Unset):
            tenant = UNSET
        else:
            tenant = self.tenant

        webauthn_rp_id: None | str | Unset
        if isinstance(self.webauthn_rp_id, Unset):
            webauthn_rp_id = UNSET
        else:
            webauthn_rp_id = self.webauthn_rp_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "name": name,
                "return_url_prefixes": return_url_prefixes,
                "role": role,
                "webauthn_origins": webauthn_origins,
            }
        )
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
        if revoked_at is not UNSET:
            field_dict["revoked_at"] = revoked_at
        if tenant is not UNSET:
            field_dict["tenant"] = tenant
        if webauthn_rp_id is not UNSET:
            field_dict["webauthn_rp_id"] = webauthn_rp_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = d.pop("id")

        name = d.pop("name")

        return_url_prefixes = cast(list[str], d.pop("return_url_prefixes"))

        role = Role(d.pop("role"))

        webauthn_origins = cast(list[str], d.pop("webauthn_origins"))

        def _parse_display_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        display_name = _parse_display_name(d.pop("display_name", UNSET))

        def _parse_revoked_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at", UNSET))

        def _parse_tenant(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant = _parse_tenant(d.pop("tenant", UNSET))

        def _parse_webauthn_rp_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        webauthn_rp_id = _parse_webauthn_rp_id(d.pop("webauthn_rp_id", UNSET))

        api_key = cls(
            created_at=created_at,
            id=id,
            name=name,
            return_url_prefixes=return_url_prefixes,
            role=role,
            webauthn_origins=webauthn_origins,
            display_name=display_name,
            revoked_at=revoked_at,
            tenant=tenant,
            webauthn_rp_id=webauthn_rp_id,
        )

        api_key.additional_properties = d
        return api_key

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
