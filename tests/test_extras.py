"""extra_query and extra_headers: what the spec does not say yet, sent on every page, checked
first, never overriding the key's header or the parameters a search sets itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers import API_KEY, numbers_body
from numbers_api.spec_facts import AUTH_HEADER, PAGE_MAX

from numbers_async import InvalidRequestError, NumbersClient
from numbers_async._auth import key_headers

MakeClient = Callable[..., NumbersClient]


def full_pages(sent: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    """A handler recording each request and answering with as many new numbers as asked."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        size = int(request.url.params["limit"])
        start = len(sent) * 1000
        return httpx.Response(
            200, json=numbers_body([f"+1415{start + i:07d}" for i in range(size)])
        )

    return handler


async def test_extra_query_and_headers_go_out_on_every_page(make_client: MakeClient) -> None:
    """Both reach every page request; the key's header is still the client's."""
    sent: list[httpx.Request] = []
    client = make_client(full_pages(sent))
    found = await client.search(
        "US",
        limit=PAGE_MAX * 2 + 1,
        extra_query={"numberType": "mobile", "beta": True, "radius": 2.5},
        extra_headers={"X-Request-Source": "batch 7"},
    )
    assert len(found) == PAGE_MAX * 2 + 1
    assert len(sent) == 3
    for request in sent:
        params = request.url.params
        assert (params["numberType"], params["beta"], params["radius"]) == ("mobile", "true", "2.5")
        assert request.headers["X-Request-Source"] == "batch 7"
        assert request.headers[AUTH_HEADER] == key_headers(API_KEY)[AUTH_HEADER]


async def test_iter_search_sends_them_too(make_client: MakeClient) -> None:
    sent: list[httpx.Request] = []
    client = make_client(full_pages(sent))
    stream = client.iter_search("US", limit=3, extra_query={"x": "1"}, extra_headers={"X-A": "b"})
    assert len([number async for number in stream]) == 3
    assert sent[0].url.params["x"] == "1"
    assert sent[0].headers["X-A"] == "b"


@pytest.mark.parametrize(
    ("argument", "options"),
    [
        ("extra_query", {"extra_query": {"limit": 5}}),  # paging sets it
        ("extra_query", {"extra_query": {"countryCode": "CA"}}),
        ("extra_query", {"extra_query": {"areaCode": "415"}}),  # an exposed filter
        ("extra_query", {"extra_query": {"": "x"}}),
        ("extra_query", {"extra_query": {"x": None}}),
        ("extra_query", {"extra_query": {"x": float("nan")}}),
        ("extra_query", {"extra_query": {"x": ["a"]}}),
        ("extra_query", {"extra_query": "x=1"}),
        ("extra_headers", {"extra_headers": {AUTH_HEADER: "Bearer other"}}),
        ("extra_headers", {"extra_headers": {AUTH_HEADER.upper(): "x"}}),
        ("extra_headers", {"extra_headers": {"Host": "evil.test"}}),
        ("extra_headers", {"extra_headers": {"Content-Length": "0"}}),
        ("extra_headers", {"extra_headers": {"X-A": "b\r\nX-Injected: 1"}}),
        ("extra_headers", {"extra_headers": {"Bad Name": "x"}}),
        ("extra_headers", {"extra_headers": {"X-A": 5}}),
        ("extra_headers", {"extra_headers": [("X-A", "b")]}),
    ],
)
async def test_bad_extras_are_refused_before_any_request(
    make_client: MakeClient, argument: str, options: dict[str, Any]
) -> None:
    """Each bad extra raises InvalidRequestError naming it; nothing is sent."""
    sent: list[httpx.Request] = []
    client = make_client(full_pages(sent))
    with pytest.raises(InvalidRequestError) as caught:
        await client.search("US", **options)
    with pytest.raises(InvalidRequestError):
        client.iter_search("US", **options)
    assert caught.value.argument == argument
    assert sent == []


async def test_an_unknown_filter_is_a_type_error(make_client: MakeClient) -> None:
    """A keyword that is no SearchFilters entry fails as Python's own would."""
    client = make_client(full_pages([]))
    with pytest.raises(TypeError, match="number_type"):
        await client.search("US", number_type="mobile")  # type: ignore[call-arg]
