from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.token_list import TokenList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    tenant: str | Unset = UNSET,
    status: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    batch: str | Unset = UNSET,
    serial: str | Unset = UNSET,
    user: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params["status"] = status

    params["kind"] = kind

    params["batch"] = batch

    params["serial"] = serial

    params["user"] = user

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/admin/tokens",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | TokenList | None:
    if response.status_code == 200:
        response_200 = TokenList.from_dict(response.json())

        return response_200

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
) -> Response[ErrorBody | TokenList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    status: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    batch: str | Unset = UNSET,
    serial: str | Unset = UNSET,
    user: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[ErrorBody | TokenList]:
    """Lists the tenant's tokens, by serial, filtered.

    Args:
        tenant (str | Unset):
        status (str | Unset):
        kind (str | Unset):
        batch (str | Unset):
        serial (str | Unset):
        user (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TokenList]
    """

    kwargs = _get_kwargs(
        tenant=tenant,
        status=status,
        kind=kind,
        batch=batch,
        serial=serial,
        user=user,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    status: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    batch: str | Unset = UNSET,
    serial: str | Unset = UNSET,
    user: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> ErrorBody | TokenList | None:
    """Lists the tenant's tokens, by serial, filtered.

    Args:
        tenant (str | Unset):
        status (str | Unset):
        kind (str | Unset):
        batch (str | Unset):
        serial (str | Unset):
        user (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TokenList
    """

    return sync_detailed(
        client=client,
        tenant=tenant,
        status=status,
        kind=kind,
        batch=batch,
        serial=serial,
        user=user,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    status: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    batch: str | Unset = UNSET,
    serial: str | Unset = UNSET,
    user: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[ErrorBody | TokenList]:
    """Lists the tenant's tokens, by serial, filtered.

    Args:
        tenant (str | Unset):
        status (str | Unset):
        kind (str | Unset):
        batch (str | Unset):
        serial (str | Unset):
        user (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TokenList]
    """

    kwargs = _get_kwargs(
        tenant=tenant,
        status=status,
        kind=kind,
        batch=batch,
        serial=serial,
        user=user,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    status: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    batch: str | Unset = UNSET,
    serial: str | Unset = UNSET,
    user: str | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> ErrorBody | TokenList | None:
    """Lists the tenant's tokens, by serial, filtered.

    Args:
        tenant (str | Unset):
        status (str | Unset):
        kind (str | Unset):
        batch (str | Unset):
        serial (str | Unset):
        user (str | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TokenList
    """

    return (
        await asyncio_detailed(
            client=client,
            tenant=tenant,
            status=status,
            kind=kind,
            batch=batch,
            serial=serial,
            user=user,
            limit=limit,
        )
    ).parsed
