from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.tokens_imported import TokensImported
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: str,
    tenant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/tokens/import",
        "params": params,
    }

    _kwargs["content"] = body
    headers["Content-Type"] = "application/pskc+xml"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | TokensImported | None:
    if response.status_code == 201:
        response_201 = TokensImported.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

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
) -> Response[ErrorBody | TokensImported]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: str,
    tenant: str | Unset = UNSET,
) -> Response[ErrorBody | TokensImported]:
    """Imports hardware tokens, unassigned: a PSKC file (RFC 6030; `application/pskc+xml`, with
    `X-Pskc-Key: <hex>` or `X-Pskc-Password` when it is encrypted) or a YubiKey personalization
    log (`text/csv`). One bad key package or line and nothing is imported: each is named (by
    position and serial, never a secret). Up to 16 MiB.

    Args:
        tenant (str | Unset):
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TokensImported]
    """

    kwargs = _get_kwargs(
        body=body,
        tenant=tenant,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: str,
    tenant: str | Unset = UNSET,
) -> ErrorBody | TokensImported | None:
    """Imports hardware tokens, unassigned: a PSKC file (RFC 6030; `application/pskc+xml`, with
    `X-Pskc-Key: <hex>` or `X-Pskc-Password` when it is encrypted) or a YubiKey personalization
    log (`text/csv`). One bad key package or line and nothing is imported: each is named (by
    position and serial, never a secret). Up to 16 MiB.

    Args:
        tenant (str | Unset):
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TokensImported
    """

    return sync_detailed(
        client=client,
        body=body,
        tenant=tenant,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: str,
    tenant: str | Unset = UNSET,
) -> Response[ErrorBody | TokensImported]:
    """Imports hardware tokens, unassigned: a PSKC file (RFC 6030; `application/pskc+xml`, with
    `X-Pskc-Key: <hex>` or `X-Pskc-Password` when it is encrypted) or a YubiKey personalization
    log (`text/csv`). One bad key package or line and nothing is imported: each is named (by
    position and serial, never a secret). Up to 16 MiB.

    Args:
        tenant (str | Unset):
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TokensImported]
    """

    kwargs = _get_kwargs(
        body=body,
        tenant=tenant,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: str,
    tenant: str | Unset = UNSET,
) -> ErrorBody | TokensImported | None:
    """Imports hardware tokens, unassigned: a PSKC file (RFC 6030; `application/pskc+xml`, with
    `X-Pskc-Key: <hex>` or `X-Pskc-Password` when it is encrypted) or a YubiKey personalization
    log (`text/csv`). One bad key package or line and nothing is imported: each is named (by
    position and serial, never a secret). Up to 16 MiB.

    Args:
        tenant (str | Unset):
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TokensImported
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
