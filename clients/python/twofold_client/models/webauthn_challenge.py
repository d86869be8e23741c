from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.webauthn_challenge_options import WebauthnChallengeOptions


T = TypeVar("T", bound="WebauthnChallenge")


@_attrs_define
class WebauthnChallenge:
    """
    Attributes:
        options (WebauthnChallengeOptions): `{publicKey: …}`: pass it to `navigator.credentials.get()`, then send the
            result to
            `…/verify` as `credential` within 5 minutes. Single use.
    """

    options: WebauthnChallengeOptions
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        options = self.options.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "options": options,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.webauthn_challenge_options import WebauthnChallengeOptions

        d = dict(src_dict)
        options = WebauthnChallengeOptions.from_dict(d.pop("options"))

        webauthn_challenge = cls(
            options=options,
        )

        webauthn_challenge.additional_properties = d
        return webauthn_challenge

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
