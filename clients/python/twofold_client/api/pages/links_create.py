from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.link import Link
from ...models.link_request import LinkRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user: str,
    *,
    body: LinkRequest,
    tenant: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    json_tenant: None | str | Unset
    if isinstance(tenant, Unset):
        json_tenant = UNSET
    else:
        json_tenant = tenant
    params["tenant"] = json_tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/users/{user}/links".format(
            user=quote(str(user), safe=""),
        ),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | Link | None:
    if response.status_code == 201:
        response_201 = Link.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

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
) -> Response[ErrorBody | Link]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    user: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
    tenant: None | str | Unset = UNSET,
) -> Response[ErrorBody | Link]:
    """A link to the hosted enroll or verify page for this user, valid 10 minutes, single use. The
    browser comes back to `return_url` with `state` and `assertion` in the query.

    Args:
        user (str):
        tenant (None | str | Unset):
        body (LinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Link]
    """

    kwargs = _get_kwargs(
        user=user,
        body=body,
        tenant=tenant,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
    tenant: None | str | Unset = UNSET,
) -> ErrorBody | Link | None:
    """A link to the hosted enroll or verify page for this user, valid 10 minutes, single use. The
    browser comes back to `return_url` with `state` and `assertion` in the query.

    Args:
        user (str):
        tenant (None | str | Unset):
        body (LinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Link
    """

    return sync_detailed(
        user=user,
        client=client,
        body=body,
        tenant=tenant,
    ).parsed


async def asyncio_detailed(
    user: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
    tenant: None | str | Unset = UNSET,
) -> Response[ErrorBody | Link]:
    """A link to the hosted enroll or verify page for this user, valid 10 minutes, single use. The
    browser comes back to `return_url` with `state` and `assertion` in the query.

    Args:
        user (str):
        tenant (None | str | Unset):
        body (LinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Link]
    """

    kwargs = _get_kwargs(
        user=user,
        body=body,
        tenant=tenant,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user: str,
    *,
    client: AuthenticatedClient,
    body: LinkRequest,
    tenant: None | str | Unset = UNSET,
) -> ErrorBody | Link | None:
    """A link to the hosted enroll or verify page for this user, valid 10 minutes, single use. The
    browser comes back to `return_url` with `state` and `assertion` in the query.

    Args:
        user (str):
        tenant (None | str | Unset):
        body (LinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Link
    """

    return (
        await asyncio_detailed(
            user=user,
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
