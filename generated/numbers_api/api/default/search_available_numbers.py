from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.available_numbers_response import AvailableNumbersResponse
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    country_code: str,
    features: str | Unset = UNSET,
    area_code: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["countryCode"] = country_code

    params["features"] = features

    params["areaCode"] = area_code

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/numbers/available",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | AvailableNumbersResponse | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = AvailableNumbersResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = cast(Any, None)
        return response_401

    if response.status_code == 402:
        response_402 = ErrorResponse.from_dict(response.json())

        return response_402

    if response.status_code == 500:
        response_500 = cast(Any, None)
        return response_500

    if response.status_code == 502:
        response_502 = ErrorResponse.from_dict(response.json())

        return response_502

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | AvailableNumbersResponse | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    country_code: str,
    features: str | Unset = UNSET,
    area_code: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[Any | AvailableNumbersResponse | ErrorResponse]:
    """Search for available phone numbers

    Args:
        country_code (str):
        features (str | Unset):
        area_code (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | AvailableNumbersResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        country_code=country_code,
        features=features,
        area_code=area_code,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    country_code: str,
    features: str | Unset = UNSET,
    area_code: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Any | AvailableNumbersResponse | ErrorResponse | None:
    """Search for available phone numbers

    Args:
        country_code (str):
        features (str | Unset):
        area_code (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | AvailableNumbersResponse | ErrorResponse
    """

    return sync_detailed(
        client=client,
        country_code=country_code,
        features=features,
        area_code=area_code,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    country_code: str,
    features: str | Unset = UNSET,
    area_code: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[Any | AvailableNumbersResponse | ErrorResponse]:
    """Search for available phone numbers

    Args:
        country_code (str):
        features (str | Unset):
        area_code (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | AvailableNumbersResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        country_code=country_code,
        features=features,
        area_code=area_code,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    country_code: str,
    features: str | Unset = UNSET,
    area_code: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Any | AvailableNumbersResponse | ErrorResponse | None:
    """Search for available phone numbers

    Args:
        country_code (str):
        features (str | Unset):
        area_code (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | AvailableNumbersResponse | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            country_code=country_code,
            features=features,
            area_code=area_code,
            limit=limit,
        )
    ).parsed
