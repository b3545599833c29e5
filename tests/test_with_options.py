"""with_options(): a cheap client with other per-call settings, sharing pool, budget and hooks."""

from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
from helpers import API_KEY, numbers_body, until
from loopback import LoopbackServer, serve

from numbers_async import (
    ClientClosedError,
    ClientOptions,
    Hooks,
    InvalidRequestError,
    NumbersClient,
    ProviderError,
    SearchInfo,
)
from numbers_async._transports import Transport

MakeClient = Callable[..., NumbersClient]
OK = numbers_body(["+14155550100"])


async def test_one_connection_serves_the_client_and_its_derived_client(transport: str) -> None:
    """A derived client sends over the original's pool: one keep-alive connection serves both."""
    async with (
        serve(LoopbackServer()) as server,
        NumbersClient(
            API_KEY, base_url=server.base_url, transport=cast(Transport, transport)
        ) as client,
    ):
        derived = client.with_options(timeout=5, max_retries=0, deadline=10)
        await client.search("US", limit=3)
        await derived.search("US", limit=3)
        await client.search("US", limit=3)
        assert server.requests == 3
        assert server.peak_connections == server.open_connections == 1


async def test_derived_settings_apply_and_the_original_keeps_its_own(
    make_client: MakeClient,
) -> None:
    """max_retries, timeout, page_concurrency and deadline change on the derived client only."""
    timeouts: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(502)

    client = make_client(handler, timeout=30)
    derived = client.with_options(
        max_retries=0, timeout=2.5, page_concurrency=2, deadline=9, retry_max_delay=1
    )
    with pytest.raises(ProviderError):
        await derived.search("US")
    with pytest.raises(ProviderError):
        await client.search("US")
    assert timeouts == [2.5, 30.0, 30.0, 30.0]
    assert (derived.retry_policy.max_retries, client.retry_policy.max_retries) == (0, 2)
    assert derived.retry_policy.max_delay == 1.0
    assert derived.retry_policy.sleep is client.retry_policy.sleep
    assert (derived.page_concurrency, derived.deadline) == (2, 9.0)
    assert (client.page_concurrency, client.deadline) == (5, None)
    assert derived.with_options(deadline=None).deadline is None


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"api_key": "other"}, "api_key"),
        ({"base_url": "http://other.test"}, "base_url"),
        ({"transport": "aiohttp"}, "transport"),
        ({"max_retry": 3}, "max_retry"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"page_concurrency": 0}, "page_concurrency"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": float("inf")}, "deadline"),
        ({"retry_initial_delay": float("nan")}, "retry_initial_delay"),
        # None kept this client's setting without a word (deadline=None does mean none)
        ({"max_retries": None}, "max_retries"),
        ({"retry_initial_delay": None}, "retry_initial_delay"),
        ({"retry_max_delay": None}, "retry_max_delay"),
        ({"timeout": None}, "timeout"),
    ],
)
async def test_unknown_or_invalid_options_are_refused(
    make_client: MakeClient, options: dict[str, Any], argument: str
) -> None:
    """InvalidRequestError names the option; nothing else than the per-call settings changes."""
    client = make_client(lambda request: httpx.Response(200, json=OK))
    with pytest.raises(InvalidRequestError) as caught:
        client.with_options(**options)
    assert caught.value.argument == argument
    # a name with_options() does not take is also the TypeError Python raises for one
    unknown = argument not in ClientOptions.__annotations__
    assert isinstance(caught.value, TypeError) == unknown


async def test_closing_a_derived_client_leaves_the_pool_open(make_client: MakeClient) -> None:
    """aclose() on a derived client ends its searches only; the original goes on."""
    client = make_client(lambda request: httpx.Response(200, json=OK))
    derived = client.with_options(max_retries=1)
    await derived.aclose()
    with pytest.raises(ClientClosedError):
        await derived.search("US")
    assert len(await client.search("US")) == 1
    assert not client._requester.http.is_closed


async def test_closing_the_original_closes_the_pool_and_its_derived_clients() -> None:
    """aclose() on the original closes the pool it owns: derived clients can no longer search."""
    client = NumbersClient(API_KEY, base_url="http://numbers.test")
    derived = client.with_options(max_retries=1)
    await client.aclose()
    assert client._requester.http.is_closed
    assert derived.is_closed
    with pytest.raises(ClientClosedError):
        await derived.search("US")
    with pytest.raises(ClientClosedError):
        client.with_options(max_retries=1)


async def test_derived_clients_share_the_hooks(make_client: MakeClient) -> None:
    """The hooks of the original see the derived client's searches."""
    finished: list[SearchInfo] = []

    class Finished(Hooks):
        def search_finished(self, search: SearchInfo) -> None:
            finished.append(search)

    client = make_client(lambda request: httpx.Response(200, json=OK), hooks=[Finished()])
    await client.with_options(deadline=3).search("US", limit=1)
    assert [(s.deadline, s.returned) for s in finished] == [(3.0, 1)]


async def test_deadline_none_removes_the_deadline(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(200, json=OK)).with_options(deadline=5)
    assert client.with_options(deadline=None)._deadline is None


async def test_the_last_derived_client_of_a_dropped_original_closes_its_pool(
    transport: str,
) -> None:
    """``async with NumbersClient(...).with_options(...)``: the original is dropped at once,
    unclosed; the derived clients then close the pool it owned, the last of them to close (the
    pool stayed open, its connections with it, silently on httpx)."""
    async with serve(LoopbackServer()) as server:
        engine = cast(Transport, transport)
        async with NumbersClient(API_KEY, base_url=server.base_url, transport=engine).with_options(
            deadline=5
        ) as first:
            second = first.with_options(max_retries=0)
            await first.search("US", limit=3)
        assert not first._requester.http.is_closed  # the second still sends over it
        await second.search("US", limit=3)
        await second.aclose()
        assert second._requester.http.is_closed
        assert await until(lambda: server.open_connections == 0)


async def test_a_derived_client_leaves_the_pool_a_stream_of_the_dropped_original_reads(
    transport: str,
) -> None:
    """The original is dropped while a stream of its searches is read: closing a derived client
    leaves the pool to the stream (it closed the pool under it: ClientClosedError after 50 of
    300 numbers)."""
    async with serve(LoopbackServer()) as server:
        engine = cast(Transport, transport)
        original = NumbersClient(API_KEY, base_url=server.base_url, transport=engine)
        stream, derived = original.iter_search("US", limit=300), original.with_options(deadline=5)
        del original
        numbers = [await anext(stream)]
        await derived.aclose()
        numbers += [number async for number in stream]
        assert len(numbers) == 300
        await derived._requester.http.aclose()  # the pool nobody can close now, closed here


async def test_a_derived_client_leaves_the_pool_of_an_original_still_held(transport: str) -> None:
    """While the original is held, closing every derived client leaves its pool open."""
    async with (
        serve(LoopbackServer()) as server,
        NumbersClient(
            API_KEY, base_url=server.base_url, transport=cast(Transport, transport)
        ) as client,
    ):
        await client.with_options(deadline=5).aclose()
        assert len(await client.search("US", limit=3)) == 3
