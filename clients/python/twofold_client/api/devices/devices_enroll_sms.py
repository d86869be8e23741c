from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.enroll_sms import EnrollSms
from ...models.enrolled_sms import EnrolledSms
from ...models.error_body import ErrorBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user: str,
    *,
    body: EnrollSms,
    tenant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/users/{user}/devices/sms".format(
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
) -> EnrolledSms | ErrorBody | None:
    if response.status_code == 201:
        response_201 = EnrolledSms.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = ErrorBody.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[EnrolledSms | ErrorBody]:
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
    body: EnrollSms,
    tenant: str | Unset = UNSET,
) -> Response[EnrolledSms | ErrorBody]:
    """Enrolls a phone number: a pending device, and a code texted to it to confirm it with.

    Args:
        user (str):
        tenant (str | Unset):
        body (EnrollSms):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EnrolledSms | ErrorBody]
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
    body: EnrollSms,
    tenant: str | Unset = UNSET,
) -> EnrolledSms | ErrorBody | None:
    """Enrolls a phone number: a pending device, and a code texted to it to confirm it with.

    Args:
        user (str):
        tenant (str | Unset):
        body (EnrollSms):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EnrolledSms | ErrorBody
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
    body: EnrollSms,
    tenant: str | Unset = UNSET,
) -> Response[EnrolledSms | ErrorBody]:
    """Enrolls a phone number: a pending device, and a code texted to it to confirm it with.

    Args:
        user (str):
        tenant (str | Unset):
        body (EnrollSms):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EnrolledSms | ErrorBody]
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
    body: EnrollSms,
    tenant: str | Unset = UNSET,
) -> EnrolledSms | ErrorBody | None:
    """Enrolls a phone number: a pending device, and a code texted to it to confirm it with.

    Args:
        user (str):
        tenant (str | Unset):
        body (EnrollSms):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EnrolledSms | ErrorBody
    """

    return (
        await asyncio_detailed(
            user=user,
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
