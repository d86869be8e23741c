from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.assign_body import AssignBody
from ...models.assigned import Assigned
from ...models.error_body import ErrorBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    serial: str,
    *,
    body: AssignBody,
    tenant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/admin/tokens/{serial}/assign".format(
            serial=quote(str(serial), safe=""),
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

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

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
    serial: str,
    *,
    client: AuthenticatedClient,
    body: AssignBody,
    tenant: str | Unset = UNSET,
) -> Response[Assigned | ErrorBody]:
    """Assigns an unassigned token to a user: one more active device of theirs at once.

    Args:
        serial (str):
        tenant (str | Unset):
        body (AssignBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Assigned | ErrorBody]
    """

    kwargs = _get_kwargs(
        serial=serial,
        body=body,
        tenant=tenant,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    serial: str,
    *,
    client: AuthenticatedClient,
    body: AssignBody,
    tenant: str | Unset = UNSET,
) -> Assigned | ErrorBody | None:
    """Assigns an unassigned token to a user: one more active device of theirs at once.

    Args:
        serial (str):
        tenant (str | Unset):
        body (AssignBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Assigned | ErrorBody
    """

    return sync_detailed(
        serial=serial,
        client=client,
        body=body,
        tenant=tenant,
    ).parsed


async def asyncio_detailed(
    serial: str,
    *,
    client: AuthenticatedClient,
    body: AssignBody,
    tenant: str | Unset = UNSET,
) -> Response[Assigned | ErrorBody]:
    """Assigns an unassigned token to a user: one more active device of theirs at once.

    Args:
        serial (str):
        tenant (str | Unset):
        body (AssignBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Assigned | ErrorBody]
    """

    kwargs = _get_kwargs(
        serial=serial,
        body=body,
        tenant=tenant,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    serial: str,
    *,
    client: AuthenticatedClient,
    body: AssignBody,
    tenant: str | Unset = UNSET,
) -> Assigned | ErrorBody | None:
    """Assigns an unassigned token to a user: one more active device of theirs at once.

    Args:
        serial (str):
        tenant (str | Unset):
        body (AssignBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Assigned | ErrorBody
    """

    return (
        await asyncio_detailed(
            serial=serial,
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
