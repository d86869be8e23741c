from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SecurityKey")


@_attrs_define
class SecurityKey:
    """What is known of a confirmed security key.

    Attributes:
        rp_id (str): The RP ID the credential is scoped to.
        user_verified (bool): The key verified its user (PIN or biometric) at registration.
        aaguid (None | str | Unset): The authenticator model's id (lowercase UUID): attested, or else the
            authenticator's own
            claim; `null` when it sent none. Example: cb69481e-8ff7-4039-93ec-0a2729a154a8.
        clone_detected_at (datetime.datetime | None | Unset): Set when a signature counter went backwards: a cloned or
            broken key. The check that saw
            it was refused; revoke the key unless its owner explains it.
        model (None | str | Unset): The model's name, where the tenant's policy names its AAGUID.
    """

    rp_id: str
    user_verified: bool
    aaguid: None | str | Unset = UNSET
    clone_detected_at: datetime.datetime | None | Unset = UNSET
    model: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rp_id = self.rp_id

        user_verified = self.user_verified

        aaguid: None | str | Unset
        if isinstance(self.aaguid, Unset):
            aaguid = UNSET
        else:
            aaguid = self.aaguid

        clone_detected_at: None | str | Unset
        if isinstance(self.clone_detected_at, Unset):
            clone_detected_at = UNSET
        elif isinstance(self.clone_detected_at, datetime.datetime):
            clone_detected_at = self.clone_detected_at.isoformat()
        else:
            clone_detected_at = self.clone_detected_at

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "rp_id": rp_id,
                "user_verified": user_verified,
            }
        )
        if aaguid is not UNSET:
            field_dict["aaguid"] = aaguid
        if clone_detected_at is not UNSET:
            field_dict["clone_detected_at"] = clone_detected_at
        if model is not UNSET:
            field_dict["model"] = model

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        rp_id = d.pop("rp_id")

        user_verified = d.pop("user_verified")

        def _parse_aaguid(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        aaguid = _parse_aaguid(d.pop("aaguid", UNSET))

        def _parse_clone_detected_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                clone_detected_at_type_0 = datetime.datetime.fromisoformat(data)

                return clone_detected_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        clone_detected_at = _parse_clone_detected_at(d.pop("clone_detected_at", UNSET))

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        security_key = cls(
            rp_id=rp_id,
            user_verified=user_verified,
            aaguid=aaguid,
            clone_detected_at=clone_detected_at,
            model=model,
        )

        security_key.additional_properties = d
        return security_key

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
