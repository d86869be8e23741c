from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.exported_event_detail_type_0 import ExportedEventDetailType0


T = TypeVar("T", bound="ExportedEvent")


@_attrs_define
class ExportedEvent:
    """One event as exported and as the admin API shows it. Never a secret: events hold none.

    Attributes:
        action (str):
        actor (str): `api_key:<id>`, `console:<admin key id>`, `cli` or `system`.
        at (datetime.datetime):
        id (str):
        outcome (str):
        seq (int):
        stream (str): The writer stream, the event's place in it and its chained hash (hex).
        tenant (str):
        detail (ExportedEventDetailType0 | None | Unset):
        device (None | str | Unset):
        hash_ (None | str | Unset):
        ip (None | str | Unset):
        user (None | str | Unset):
    """

    action: str
    actor: str
    at: datetime.datetime
    id: str
    outcome: str
    seq: int
    stream: str
    tenant: str
    detail: ExportedEventDetailType0 | None | Unset = UNSET
    device: None | str | Unset = UNSET
    hash_: None | str | Unset = UNSET
    ip: None | str | Unset = UNSET
    user: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.exported_event_detail_type_0 import ExportedEventDetailType0

        action = self.action

        actor = self.actor

        at = self.at.isoformat()

        id = self.id

        outcome = self.outcome

        seq = self.seq

        stream = self.stream

        tenant = self.tenant

        detail: dict[str, Any] | None | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        elif isinstance(self.detail, ExportedEventDetailType0):
            detail = self.detail.to_dict()
        else:
            detail = self.detail

        device: None | str | Unset
        if isinstance(self.device, Unset):
            device = UNSET
        else:
            device = self.device

        hash_: None | str | Unset
        if isinstance(self.hash_, Unset):
            hash_ = UNSET
        else:
            hash_ = self.hash_

        ip: None | str | Unset
        if isinstance(self.ip, Unset):
            ip = UNSET
        else:
            ip = self.ip

        user: None | str | Unset
        if isinstance(self.user, Unset):
            user = UNSET
        else:
            user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "id": id,
                "outcome": outcome,
                "seq": seq,
                "stream": stream,
                "tenant": tenant,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if device is not UNSET:
            field_dict["device"] = device
        if hash_ is not UNSET:
            field_dict["hash"] = hash_
        if ip is not UNSET:
            field_dict["ip"] = ip
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.exported_event_detail_type_0 import ExportedEventDetailType0

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        id = d.pop("id")

        outcome = d.pop("outcome")

        seq = d.pop("seq")

        stream = d.pop("stream")

        tenant = d.pop("tenant")

        def _parse_detail(data: object) -> ExportedEventDetailType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                detail_type_0 = ExportedEventDetailType0.from_dict(data)

                return detail_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ExportedEventDetailType0 | None | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))

        def _parse_device(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device = _parse_device(d.pop("device", UNSET))

        def _parse_hash_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        hash_ = _parse_hash_(d.pop("hash", UNSET))

        def _parse_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ip = _parse_ip(d.pop("ip", UNSET))

        def _parse_user(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user = _parse_user(d.pop("user", UNSET))

        exported_event = cls(
            action=action,
            actor=actor,
            at=at,
            id=id,
            outcome=outcome,
            seq=seq,
            stream=stream,
            tenant=tenant,
            detail=detail,
            device=device,
            hash_=hash_,
            ip=ip,
            user=user,
        )

        exported_event.additional_properties = d
        return exported_event

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
