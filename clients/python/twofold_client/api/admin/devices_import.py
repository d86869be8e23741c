from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.imported import Imported
from ...types import Response


def _get_kwargs(
    *,
    body: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/import",
    }

    _kwargs["content"] = body
    headers["Content-Type"] = "application/x-ndjson"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | Imported | None:
    if response.status_code == 201:
        response_201 = Imported.from_dict(response.json())

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
) -> Response[ErrorBody | Imported]:
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
) -> Response[ErrorBody | Imported]:
    """Imports TOTP devices, active at once: one per line, as JSON lines
    (`{"tenant","user","label","secret","algorithm","digits","period"}`) or CSV with that header.
    A bad line and nothing is imported: the answer names each bad line (the first 100). Up to
    16 MiB per request; `twofold import` takes any size.

    Args:
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Imported]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: str,
) -> ErrorBody | Imported | None:
    """Imports TOTP devices, active at once: one per line, as JSON lines
    (`{"tenant","user","label","secret","algorithm","digits","period"}`) or CSV with that header.
    A bad line and nothing is imported: the answer names each bad line (the first 100). Up to
    16 MiB per request; `twofold import` takes any size.

    Args:
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Imported
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: str,
) -> Response[ErrorBody | Imported]:
    """Imports TOTP devices, active at once: one per line, as JSON lines
    (`{"tenant","user","label","secret","algorithm","digits","period"}`) or CSV with that header.
    A bad line and nothing is imported: the answer names each bad line (the first 100). Up to
    16 MiB per request; `twofold import` takes any size.

    Args:
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Imported]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: str,
) -> ErrorBody | Imported | None:
    """Imports TOTP devices, active at once: one per line, as JSON lines
    (`{"tenant","user","label","secret","algorithm","digits","period"}`) or CSV with that header.
    A bad line and nothing is imported: the answer names each bad line (the first 100). Up to
    16 MiB per request; `twofold import` takes any size.

    Args:
        body (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Imported
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
