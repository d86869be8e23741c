from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.confirm_request_credential_type_0 import ConfirmRequestCredentialType0


T = TypeVar("T", bound="ConfirmRequest")


@_attrs_define
class ConfirmRequest:
    """
    Attributes:
        client_ip (None | str | Unset): The end user's IP address, as the relying party saw it: failures are then
            limited per
            (tenant, address) rather than per API key (see docs/verification.md, Limits). 400 if it is not an
            IPv4 or IPv6 address. Example: 203.0.113.7.
        code (None | str | Unset): The first code of an authenticator app or phone.
        credential (ConfirmRequestCredentialType0 | None | Unset): A security key: the browser's answer to the
            registration options, as
            `PublicKeyCredential.toJSON()` gives it (binary fields base64url).
    """

    client_ip: None | str | Unset = UNSET
    code: None | str | Unset = UNSET
    credential: ConfirmRequestCredentialType0 | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.confirm_request_credential_type_0 import (
            ConfirmRequestCredentialType0,
        )

        client_ip: None | str | Unset
        if isinstance(self.client_ip, Unset):
            client_ip = UNSET
        else:
            client_ip = self.client_ip

        code: None | str | Unset
        if isinstance(self.code, Unset):
            code = UNSET
        else:
            code = self.code

        credential: dict[str, Any] | None | Unset
        if isinstance(self.credential, Unset):
            credential = UNSET
        elif isinstance(self.credential, ConfirmRequestCredentialType0):
            credential = self.credential.to_dict()
        else:
            credential = self.credential

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if client_ip is not UNSET:
            field_dict["client_ip"] = client_ip
        if code is not UNSET:
            field_dict["code"] = code
        if credential is not UNSET:
            field_dict["credential"] = credential

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.confirm_request_credential_type_0 import (
            ConfirmRequestCredentialType0,
        )

        d = dict(src_dict)

        def _parse_client_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_ip = _parse_client_ip(d.pop("client_ip", UNSET))

        def _parse_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        code = _parse_code(d.pop("code", UNSET))

        def _parse_credential(
            data: object,
        ) -> ConfirmRequestCredentialType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                credential_type_0 = ConfirmRequestCredentialType0.from_dict(data)

                return credential_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfirmRequestCredentialType0 | None | Unset, data)

        credential = _parse_credential(d.pop("credential", UNSET))

        confirm_request = cls(
            client_ip=client_ip,
            code=code,
            credential=credential,
        )

        return confirm_request
