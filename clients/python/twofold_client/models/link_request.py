from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.purpose import Purpose
from ..types import UNSET, Unset

T = TypeVar("T", bound="LinkRequest")


@_attrs_define
class LinkRequest:
    """
    Attributes:
        purpose (Purpose):
        return_url (str): Where the browser goes back to; must start with a prefix registered on the API key.
        account_name (None | str | Unset): Enroll links only: the account the authenticator app shows under the issuer
            (e.g. an
            e-mail address), 1-128 printable characters; default the user id. Example: alice@example.com.
        state (None | str | Unset): Handed back unchanged with the assertion (at most 512 characters).
    """

    purpose: Purpose
    return_url: str
    account_name: None | str | Unset = UNSET
    state: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        purpose = self.purpose.value

        return_url = self.return_url

        account_name: None | str | Unset
        if isinstance(self.account_name, Unset):
            account_name = UNSET
        else:
            account_name = self.account_name

        state: None | str | Unset
        if isinstance(self.state, Unset):
            state = UNSET
        else:
            state = self.state

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "purpose": purpose,
                "return_url": return_url,
            }
        )
        if account_name is not UNSET:
            field_dict["account_name"] = account_name
        if state is not UNSET:
            field_dict["state"] = state

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        purpose = Purpose(d.pop("purpose"))

        return_url = d.pop("return_url")

        def _parse_account_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        account_name = _parse_account_name(d.pop("account_name", UNSET))

        def _parse_state(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        state = _parse_state(d.pop("state", UNSET))

        link_request = cls(
            purpose=purpose,
            return_url=return_url,
            account_name=account_name,
            state=state,
        )

        return link_request
