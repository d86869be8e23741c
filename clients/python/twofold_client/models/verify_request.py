from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.verify_request_credential_type_0 import VerifyRequestCredentialType0


T = TypeVar("T", bound="VerifyRequest")


@_attrs_define
class VerifyRequest:
    """
    Attributes:
        client_ip (None | str | Unset): The end user's IP address, as the relying party saw it: failures are then
            limited per
            (tenant, address) rather than per API key (see docs/verification.md, Limits). 400 if it is not an
            IPv4 or IPv6 address. Example: 203.0.113.7.
        code (None | str | Unset): The code as typed: a string of 6 or 8 digits, or a recovery code `xxxx-xxxx-xxxx`.
        credential (None | Unset | VerifyRequestCredentialType0): A security key: the browser's answer to the options of
            `…/webauthn/challenge`, as
            `PublicKeyCredential.toJSON()` gives it (binary fields base64url). Give `code` or this.
        device_id (None | str | Unset): Check only this device.
    """

    client_ip: None | str | Unset = UNSET
    code: None | str | Unset = UNSET
    credential: None | Unset | VerifyRequestCredentialType0 = UNSET
    device_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.verify_request_credential_type_0 import (
            VerifyRequestCredentialType0,
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
        elif isinstance(self.credential, VerifyRequestCredentialType0):
            credential = self.credential.to_dict()
        else:
            credential = self.credential

        device_id: None | str | Unset
        if isinstance(self.device_id, Unset):
            device_id = UNSET
        else:
            device_id = self.device_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if client_ip is not UNSET:
            field_dict["client_ip"] = client_ip
        if code is not UNSET:
            field_dict["code"] = code
        if credential is not UNSET:
            field_dict["credential"] = credential
        if device_id is not UNSET:
            field_dict["device_id"] = device_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.verify_request_credential_type_0 import (
            VerifyRequestCredentialType0,
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
        ) -> None | Unset | VerifyRequestCredentialType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                credential_type_0 = VerifyRequestCredentialType0.from_dict(data)

                return credential_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VerifyRequestCredentialType0, data)

        credential = _parse_credential(d.pop("credential", UNSET))

        def _parse_device_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_id = _parse_device_id(d.pop("device_id", UNSET))

        verify_request = cls(
            client_ip=client_ip,
            code=code,
            credential=credential,
            device_id=device_id,
        )

        return verify_request
