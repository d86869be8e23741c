from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SendSms")


@_attrs_define
class SendSms:
    """
    Attributes:
        client_ip (None | str | Unset): The end user's IP address, as the relying party saw it: the hourly per-address
            send
            limit then counts it (per tenant) instead of the relying party's own address. 400 if it
            is not an IPv4 or IPv6 address. Example: 203.0.113.7.
        device_id (None | str | Unset): The phone device to text; default: the user's first active one.
    """

    client_ip: None | str | Unset = UNSET
    device_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        client_ip: None | str | Unset
        if isinstance(self.client_ip, Unset):
            client_ip = UNSET
        else:
            client_ip = self.client_ip

        device_id: None | str | Unset
        if isinstance(self.device_id, Unset):
            device_id = UNSET
        else:
            device_id = self.device_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if client_ip is not UNSET:
            field_dict["client_ip"] = client_ip
        if device_id is not UNSET:
            field_dict["device_id"] = device_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_client_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_ip = _parse_client_ip(d.pop("client_ip", UNSET))

        def _parse_device_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_id = _parse_device_id(d.pop("device_id", UNSET))

        send_sms = cls(
            client_ip=client_ip,
            device_id=device_id,
        )

        return send_sms
