from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.algorithm import Algorithm
from ..types import UNSET, Unset

T = TypeVar("T", bound="EnrollTotp")


@_attrs_define
class EnrollTotp:
    """
    Attributes:
        account_name (None | str | Unset): The account the authenticator app shows under the issuer (e.g. an e-mail
            address): 1–128
            characters, no control or format character; default the user id. The `label` stays
            twofold's own name for the device. Example: alice@example.com.
        algorithm (Algorithm | None | Unset):
        digits (int | None | Unset): 6 (default) or 8.
        label (None | str | Unset): twofold's name for the device (device lists, pages, audit); unique per user;
            default: the
            user id. The authenticator app shows `account_name` instead.
        period (int | None | Unset): 30 (default) or 60 seconds.
        step_up (None | str | Unset): An assertion of this user from a verify at most 5 minutes old: needed when the
            user
            already has an active device, unless the caller is an admin key (SEC-7).
    """

    account_name: None | str | Unset = UNSET
    algorithm: Algorithm | None | Unset = UNSET
    digits: int | None | Unset = UNSET
    label: None | str | Unset = UNSET
    period: int | None | Unset = UNSET
    step_up: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        account_name: None | str | Unset
        if isinstance(self.account_name, Unset):
            account_name = UNSET
        else:
            account_name = self.account_name

        algorithm: None | str | Unset
        if isinstance(self.algorithm, Unset):
            algorithm = UNSET
        elif isinstance(self.algorithm, Algorithm):
            algorithm = self.algorithm.value
        else:
            algorithm = self.algorithm

        digits: int | None | Unset
        if isinstance(self.digits, Unset):
            digits = UNSET
        else:
            digits = self.digits

        label: None | str | Unset
        if isinstance(self.label, Unset):
            label = UNSET
        else:
            label = self.label

        period: int | None | Unset
        if isinstance(self.period, Unset):
            period = UNSET
        else:
            period = self.period

        step_up: None | str | Unset
        if isinstance(self.step_up, Unset):
            step_up = UNSET
        else:
            step_up = self.step_up

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if account_name is not UNSET:
            field_dict["account_name"] = account_name
        if algorithm is not UNSET:
            field_dict["algorithm"] = algorithm
        if digits is not UNSET:
            field_dict["digits"] = digits
        if label is not UNSET:
            field_dict["label"] = label
        if period is not UNSET:
            field_dict["period"] = period
        if step_up is not UNSET:
            field_dict["step_up"] = step_up

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_account_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        account_name = _parse_account_name(d.pop("account_name", UNSET))

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

        def _parse_digits(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        digits = _parse_digits(d.pop("digits", UNSET))

        def _parse_label(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        label = _parse_label(d.pop("label", UNSET))

        def _parse_period(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        period = _parse_period(d.pop("period", UNSET))

        def _parse_step_up(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        step_up = _parse_step_up(d.pop("step_up", UNSET))

        enroll_totp = cls(
            account_name=account_name,
            algorithm=algorithm,
            digits=digits,
            label=label,
            period=period,
            step_up=step_up,
        )

        return enroll_totp
