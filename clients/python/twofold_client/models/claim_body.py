from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ClaimBody")


@_attrs_define
class ClaimBody:
    """
    Attributes:
        code (str): A code it shows now (or, for a YubiKey, an OTP it types).
        serial (str): The serial printed on the token.
        client_ip (None | str | Unset): The end user's IP address, as for verify.
        step_up (None | str | Unset): An assertion of this user at most 5 minutes old: needed when the user already has
            an
            active device, unless the caller is an admin key (SEC-7).
    """

    code: str
    serial: str
    client_ip: None | str | Unset = UNSET
    step_up: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        serial = self.serial

        client_ip: None | str | Unset
        if isinstance(self.client_ip, Unset):
            client_ip = UNSET
        else:
            client_ip = self.client_ip

        step_up: None | str | Unset
        if isinstance(self.step_up, Unset):
            step_up = UNSET
        else:
            step_up = self.step_up

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "serial": serial,
            }
        )
        if client_ip is not UNSET:
            field_dict["client_ip"] = client_ip
        if step_up is not UNSET:
            field_dict["step_up"] = step_up

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        code = d.pop("code")

        serial = d.pop("serial")

        def _parse_client_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_ip = _parse_client_ip(d.pop("client_ip", UNSET))

        def _parse_step_up(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        step_up = _parse_step_up(d.pop("step_up", UNSET))

        claim_body = cls(
            code=code,
            serial=serial,
            client_ip=client_ip,
            step_up=step_up,
        )

        return claim_body
