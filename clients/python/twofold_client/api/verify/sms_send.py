from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.send_sms import SendSms
from ...models.sms_sent import SmsSent
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user: str,
    *,
    body: None | SendSms | Unset = UNSET,
    tenant: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/users/{user}/sms".format(
            user=quote(str(user), safe=""),
        ),
        "params": params,
    }

    if isinstance(body, SendSms):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | SmsSent | None:
    if response.status_code == 202:
        response_202 = SmsSent.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

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
) -> Response[ErrorBody | SmsSent]:
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
    body: None | SendSms | Unset = UNSET,
    tenant: str | Unset = UNSET,
) -> Response[ErrorBody | SmsSent]:
    """Texts a login code to an active phone device (or the one named). TOTP is the stronger
    factor; offer it first.

    Args:
        user (str):
        tenant (str | Unset):
        body (None | SendSms | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SmsSent]
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
    body: None | SendSms | Unset = UNSET,
    tenant: str | Unset = UNSET,
) -> ErrorBody | SmsSent | None:
    """Texts a login code to an active phone device (or the one named). TOTP is the stronger
    factor; offer it first.

    Args:
        user (str):
        tenant (str | Unset):
        body (None | SendSms | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SmsSent
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
    body: None | SendSms | Unset = UNSET,
    tenant: str | Unset = UNSET,
) -> Response[ErrorBody | SmsSent]:
    """Texts a login code to an active phone device (or the one named). TOTP is the stronger
    factor; offer it first.

    Args:
        user (str):
        tenant (str | Unset):
        body (None | SendSms | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SmsSent]
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
    body: None | SendSms | Unset = UNSET,
    tenant: str | Unset = UNSET,
) -> ErrorBody | SmsSent | None:
    """Texts a login code to an active phone device (or the one named). TOTP is the stronger
    factor; offer it first.

    Args:
        user (str):
        tenant (str | Unset):
        body (None | SendSms | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SmsSent
    """

    return (
        await asyncio_detailed(
            user=user,
            client=client,
            body=body,
            tenant=tenant,
        )
    ).parsed
