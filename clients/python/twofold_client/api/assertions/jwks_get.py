from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.jwks_get_response_200 import JwksGetResponse200
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/.well-known/jwks.json",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | JwksGetResponse200 | None:
    if response.status_code == 200:
        response_200 = JwksGetResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | JwksGetResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[ErrorBody | JwksGetResponse200]:
    """The public keys that sign assertions, as a JSON Web Key Set.

     RFC 7517 with Ed25519 keys (`kty` OKP, `alg` EdDSA): the active ones and those retired within
    the last hour; cacheable for 5 minutes. A key `twofold keys rotate` makes is here within 5
    seconds, and signs only 425 seconds after it was made, so a relying party that keeps to the
    cache lifetime always knows the `kid` of an assertion it is given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | JwksGetResponse200]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> ErrorBody | JwksGetResponse200 | None:
    """The public keys that sign assertions, as a JSON Web Key Set.

     RFC 7517 with Ed25519 keys (`kty` OKP, `alg` EdDSA): the active ones and those retired within
    the last hour; cacheable for 5 minutes. A key `twofold keys rotate` makes is here within 5
    seconds, and signs only 425 seconds after it was made, so a relying party that keeps to the
    cache lifetime always knows the `kid` of an assertion it is given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | JwksGetResponse200
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[ErrorBody | JwksGetResponse200]:
    """The public keys that sign assertions, as a JSON Web Key Set.

     RFC 7517 with Ed25519 keys (`kty` OKP, `alg` EdDSA): the active ones and those retired within
    the last hour; cacheable for 5 minutes. A key `twofold keys rotate` makes is here within 5
    seconds, and signs only 425 seconds after it was made, so a relying party that keeps to the
    cache lifetime always knows the `kid` of an assertion it is given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | JwksGetResponse200]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> ErrorBody | JwksGetResponse200 | None:
    """The public keys that sign assertions, as a JSON Web Key Set.

     RFC 7517 with Ed25519 keys (`kty` OKP, `alg` EdDSA): the active ones and those retired within
    the last hour; cacheable for 5 minutes. A key `twofold keys rotate` makes is here within 5
    seconds, and signs only 425 seconds after it was made, so a relying party that keeps to the
    cache lifetime always knows the `kid` of an assertion it is given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | JwksGetResponse200
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
