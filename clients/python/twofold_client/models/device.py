from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.algorithm import Algorithm
from ..models.device_kind import DeviceKind
from ..models.device_status import DeviceStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.security_key import SecurityKey


T = TypeVar("T", bound="Device")


@_attrs_define
class Device:
    """A device as the API shows it: never a secret.

    Attributes:
        created_at (datetime.datetime):
        id (str):
        kind (DeviceKind): The kind of device.
        label (str):
        status (DeviceStatus): `pending` until the first code, then `active`; `revoked` for good; `expired` (admin views
                         only): pending past its confirmation window.
        algorithm (Algorithm | None | Unset):
        confirmed_at (datetime.datetime | None | Unset):
        digits (int | None | Unset):
        expires_at (datetime.datetime | None | Unset): When a pending device stops being confirmable.
        last_used_at (datetime.datetime | None | Unset):
        period (int | None | Unset):
        phone_last_digits (None | str | Unset): Phone devices: the last two digits of the number, never more.
        revoked_at (datetime.datetime | None | Unset):
        security_key (None | SecurityKey | Unset):
        token_serial (None | str | Unset): A hardware token of the inventory: its serial.
    """

    created_at: datetime.datetime
    id: str
    kind: DeviceKind
    label: str
    status: DeviceStatus
    algorithm: Algorithm | None | Unset = UNSET
    confirmed_at: datetime.datetime | None | Unset = UNSET
    digits: int | None | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    last_used_at: datetime.datetime | None | Unset = UNSET
    period: int | None | Unset = UNSET
    phone_last_digits: None | str | Unset = UNSET
    revoked_at: datetime.datetime | None | Unset = UNSET
    security_key: None | SecurityKey | Unset = UNSET
    token_serial: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.security_key import SecurityKey

        created_at = self.created_at.isoformat()

        id = self.id

        kind = self.kind.value

        label = self.label

        status = self.status.value

        algorithm: None | str | Unset
        if isinstance(self.algorithm, Unset):
            algorithm = UNSET
        elif isinstance(self.algorithm, Algorithm):
            algorithm = self.algorithm.value
        else:
            algorithm = self.algorithm

        confirmed_at: None | str | Unset
        if isinstance(self.confirmed_at, Unset):
            confirmed_at = UNSET
        elif isinstance(self.confirmed_at, datetime.datetime):
            confirmed_at = self.confirmed_at.isoformat()
        else:
            confirmed_at = self.confirmed_at

        digits: int | None | Unset
        if isinstance(self.digits, Unset):
            digits = UNSET
        else:
            digits = self.digits

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        last_used_at: None | str | Unset
        if isinstance(self.last_used_at, Unset):
            last_used_at = UNSET
        elif isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        period: int | None | Unset
        if isinstance(self.period, Unset):
            period = UNSET
        else:
            period = self.period

        phone_last_digits: None | str | Unset
        if isinstance(self.phone_last_digits, Unset):
            phone_last_digits = UNSET
        else:
            phone_last_digits = self.phone_last_digits

        revoked_at: None | str | Unset
        if isinstance(self.revoked_at, Unset):
            revoked_at = UNSET
        elif isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        security_key: dict[str, Any] | None | Unset
        if isinstance(self.security_key, Unset):
            security_key = UNSET
        elif isinstance(self.security_key, SecurityKey):
            security_key = self.security_key.to_dict()
        else:
            security_key = self.security_key

        token_serial: None | str | Unset
        if isinstance(self.token_serial, Unset):
            token_serial = UNSET
        else:
            token_serial = self.token_serial

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "kind": kind,
                "label": label,
                "status": status,
            }
        )
        if algorithm is not UNSET:
            field_dict["algorithm"] = algorithm
        if confirmed_at is not UNSET:
            field_dict["confirmed_at"] = confirmed_at
        if digits is not UNSET:
            field_dict["digits"] = digits
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if last_used_at is not UNSET:
            field_dict["last_used_at"] = last_used_at
        if period is not UNSET:
            field_dict["period"] = period
        if phone_last_digits is not UNSET:
            field_dict["phone_last_digits"] = phone_last_digits
        if revoked_at is not UNSET:
            field_dict["revoked_at"] = revoked_at
        if security_key is not UNSET:
            field_dict["security_key"] = security_key
        if token_serial is not UNSET:
            field_dict["token_serial"] = token_serial

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.security_key import SecurityKey

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = d.pop("id")

        kind = DeviceKind(d.pop("kind"))

        label = d.pop("label")

        status = DeviceStatus(d.pop("status"))

        def _parse_algorithm(data: object) -> Algorithm | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                algorithm_type_1 = Algorithm(data)

                return algorithm_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Algorithm | None | Unset, data)

        algorithm = _parse_algorithm(d.pop("algorithm", UNSET))

        def _parse_confirmed_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                confirmed_at_type_0 = datetime.datetime.fromisoformat(data)

                return confirmed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        confirmed_at = _parse_confirmed_at(d.pop("confirmed_at", UNSET))

        def _parse_digits(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        digits = _parse_digits(d.pop("digits", UNSET))

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        def _parse_last_used_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at", UNSET))

        def _parse_period(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        period = _parse_period(d.pop("period", UNSET))

        def _parse_phone_last_digits(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        phone_last_digits = _parse_phone_last_digits(d.pop("phone_last_digits", UNSET))

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

        def _parse_security_key(data: object) -> None | SecurityKey | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                security_key_type_1 = SecurityKey.from_dict(data)

                return security_key_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SecurityKey | Unset, data)

        security_key = _parse_security_key(d.pop("security_key", UNSET))

        def _parse_token_serial(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        token_serial = _parse_token_serial(d.pop("token_serial", UNSET))

        device = cls(
            created_at=created_at,
            id=id,
            kind=kind,
            label=label,
            status=status,
            algorithm=algorithm,
            confirmed_at=confirmed_at,
            digits=digits,
            expires_at=expires_at,
            last_used_at=last_used_at,
            period=period,
            phone_last_digits=phone_last_digits,
            revoked_at=revoked_at,
            security_key=security_key,
            token_serial=token_serial,
        )

        device.additional_properties = d
        return device

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
