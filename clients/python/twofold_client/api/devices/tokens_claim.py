from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.claim_body import ClaimBody
from ...models.claimed_body import ClaimedBody
from ...models.error_body import ErrorBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user: str,
    *,
    body: ClaimBody,
    tenant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/users/{user}/tokens/claim".format(
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
) -> ClaimedBody | ErrorBody | None:
    if response.status_code == 200:
        response_200 = ClaimedBody.from_dict(response.json())

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
) -> Response[ClaimedBody | ErrorBody]:
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
    body: ClaimBody,
    tenant: str | Unset = UNSET,
) -> Response[ClaimedBody | ErrorBody]:
    """Claims an unassigned token of the inventory for the user, with a code from it. A wrong
    serial or code is the same 422 and counts like a wrong code.

    Args:
        user (str):
        tenant (str | Unset):
        body (ClaimBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClaimedBody | ErrorBody]
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
    body: ClaimBody,
    tenant: str | Unset = UNSET,
) -> ClaimedBody | ErrorBody | None:
    """Claims an unassigned token of the inventory for the user, with a code from it. A wrong
    serial or code is the same 422 and counts like a wrong code.

    Args:
        user (str):
        tenant (str | Unset):
        body (ClaimBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClaimedBody | ErrorBody
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
    body: ClaimBody,
    tenant: str | Unset = UNSET,
) -> Response[ClaimedBody | ErrorBody]:
    """Claims an unassigned token of the inventory for the user, with a code from it. A wrong
    serial or code is the same 422 and counts like a wrong code.

    Args:
        user (str):
        tenant (str | Unset):
        body (ClaimBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClaimedBody | ErrorBody]
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
    body: ClaimBody,
    tenant: str | Unset = UNSET,
) -> ClaimedBody | ErrorBody | None:
    """Claims an unassigned token of the inventory for the user, with a code from it. A wrong
    serial or code is the same 422 and counts like a wrong code.

    Args:
        user (str):
        tenant (str | Unset):
        body (ClaimBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClaimedBody | ErrorBody
    """

    return (
        await asyncio_detailed(
            user=user,
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
