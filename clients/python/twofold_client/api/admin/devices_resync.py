from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.assigned import Assigned
from ...models.error_body import ErrorBody
from ...models.resync_body import ResyncBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user: str,
    id: str,
    *,
    body: ResyncBody,
    tenant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/users/{user}/devices/{id}/resync".format(
            user=quote(str(user), safe=""),
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Assigned | ErrorBody | None:
    if response.status_code == 200:
        response_200 = Assigned.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())

        return response_429

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
) -> Response[Assigned | ErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    user: str,
    id: str,
    *,
    client: AuthenticatedClient,
    body: ResyncBody,
    tenant: str | Unset = UNSET,
) -> Response[Assigned | ErrorBody]:
    """Brings a HOTP device pressed far ahead of the look-ahead window back in step with two
    consecutive codes (within `TWOFOLD_HOTP_RESYNC_WINDOW`). Goes through the user's limiter.

    Args:
        user (str):
        id (str):
        tenant (str | Unset):
        body (ResyncBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Assigned | ErrorBody]
    """

    kwargs = _get_kwargs(
        user=user,
        id=id,
        body=body,
        tenant=tenant,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user: str,
    id: str,
    *,
    client: AuthenticatedClient,
    body: ResyncBody,
    tenant: str | Unset = UNSET,
) -> Assigned | ErrorBody | None:
    """Brings a HOTP device pressed far ahead of the look-ahead window back in step with two
    consecutive codes (within `TWOFOLD_HOTP_RESYNC_WINDOW`). Goes through the user's limiter.

    Args:
        user (str):
        id (str):
        tenant (str | Unset):
        body (ResyncBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Assigned | ErrorBody
    """

    return sync_detailed(
        user=user,
        id=id,
        client=client,
        body=body,
        tenant=tenant,
    ).parsed


async def asyncio_detailed(
    user: str,
    id: str,
    *,
    client: AuthenticatedClient,
    body: ResyncBody,
    tenant: str | Unset = UNSET,
) -> Response[Assigned | ErrorBody]:
    """Brings a HOTP device pressed far ahead of the look-ahead window back in step with two
    consecutive codes (within `TWOFOLD_HOTP_RESYNC_WINDOW`). Goes through the user's limiter.

    Args:
        user (str):
        id (str):
        tenant (str | Unset):
        body (ResyncBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Assigned | ErrorBody]
    """

    kwargs = _get_kwargs(
        user=user,
        id=id,
        body=body,
        tenant=tenant,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user: str,
    id: str,
    *,
    client: AuthenticatedClient,
    body: ResyncBody,
    tenant: str | Unset = UNSET,
) -> Assigned | ErrorBody | None:
    """Brings a HOTP device pressed far ahead of the look-ahead window back in step with two
    consecutive codes (within `TWOFOLD_HOTP_RESYNC_WINDOW`). Goes through the user's limiter.

    Args:
        user (str):
        id (str):
        tenant (str | Unset):
        body (ResyncBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Assigned | ErrorBody
    """

    return (
        await asyncio_detailed(
            user=user,
            id=id,
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
