"""A request a stale keep-alive connection lost is sent once more, on every engine, and is no
retry; one lost on a new connection is not (an outage would get twice the load)."""

import asyncio
import contextlib
import contextvars

import httpx
import pytest
from helpers import ENGINES, SleepRecorder, engine_client, options_client
from loopback import LoopbackServer, serve

from numbers_async import (
    APIConnectionError,
    Hooks,
    NumbersClient,
    RetryBudget,
    RetryPolicy,
    _stale,
)
from numbers_async.hooks import AttemptInfo, RetryInfo, SearchInfo

SEARCHES = 10


class Recorder(Hooks):
    """Keeps the attempts sent, the retries scheduled and the searches finished."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.retries: list[RetryInfo] = []
        self.searches: list[SearchInfo] = []

    def request_sent(self, attempt: AttemptInfo) -> None:
        self.sent.append(attempt.number)

    def retry_scheduled(self, retry: RetryInfo) -> None:
        self.retries.append(retry)

    def search_finished(self, search: SearchInfo) -> None:
        self.searches.append(search)


@pytest.mark.parametrize("engine", ENGINES)
async def test_requests_a_stale_connection_lost_are_resent(engine: str) -> None:
    """A server hangs up, unanswered, on every request after the first on a connection (what
    its idle timeout does to a request crossing it): with max_retries=0 every search still
    succeeds, each lost request sent once more on a new connection, and counted as sent."""
    async with serve(LoopbackServer(hangup_after=1)) as server:
        client = engine_client(engine, server.base_url, max_retries=0, timeout=5.0)
        async with client:
            for _ in range(SEARCHES):
                assert len(await client.search("US", limit=1)) == 1
        await options_client(client).aclose()
    assert server.requests == client.requests_sent == 2 * SEARCHES - 1


async def pooled(engine: str, server: LoopbackServer, connections: int) -> NumbersClient:
    """A client on ``engine`` with ``connections`` pooled connections to ``server``, each of
    which (``hangup_after=1``) the server hangs up on at its next request."""
    client = engine_client(engine, server.base_url, max_retries=0, timeout=5.0)
    await asyncio.gather(*(client.search("US", limit=1) for _ in range(connections)))
    assert server.connections == connections
    return client


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_lost_request_is_resent_past_other_stale_connections(engine: str) -> None:
    """3 connections pooled, each hung up on its next request (as a burst after an idle gap
    finds them): a search loses its request on one and gets it answered all the same, on a
    new connection (aiohttp and callers' pools resent it once, on another pooled one, lost
    too: 53 of 1,200 searches failed in bursts after idle gaps with max_retries=0)."""
    async with serve(LoopbackServer(hangup_after=1)) as server:
        client = await pooled(engine, server, 3)
        async with client:
            assert len(await client.search("US", limit=1)) == 1
        await options_client(client).aclose()


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_lost_request_is_resent_a_few_times_at_most(engine: str) -> None:
    """20 such connections pooled: the search's request reaches the server at most
    1 + MAX_RESENDS times, and twice where the pool opens a new connection for the resend (a
    request the server handled before dropping its connection went out 21 times, once per
    pooled connection, with max_retries=0)."""
    async with serve(LoopbackServer(hangup_after=1)) as server:
        client = await pooled(engine, server, 20)
        async with client:
            with contextlib.suppress(APIConnectionError):
                await client.search("US", limit=1)
        await options_client(client).aclose()
    sends = server.requests - 20
    assert sends == 2 if engine == "aiohttp" else 2 <= sends <= 1 + _stale.MAX_RESENDS


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_request_a_new_connection_lost_is_not_resent(engine: str) -> None:
    """A server hanging up on every new connection's request gets one request per attempt."""
    sleeps = SleepRecorder()
    async with serve(LoopbackServer(default="hangup")) as server:
        client = engine_client(
            engine,
            server.base_url,
            timeout=5.0,
            retry_policy=RetryPolicy(max_retries=2, sleep=sleeps),
        )
        async with client:
            with pytest.raises(APIConnectionError) as caught:
                await client.search("US", limit=1)
        await options_client(client).aclose()
    assert server.requests == client.requests_sent == caught.value.attempts == 3
    assert len(sleeps.delays) == 2


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_resend_is_no_retry(engine: str) -> None:
    """The resend waits for nothing, asks nothing of a budget that allows no retry, calls no
    hook and counts as no attempt: each search is one attempt, numbered 1."""
    sleeps, hooks = SleepRecorder(), Recorder()
    async with serve(LoopbackServer(hangup_after=1)) as server:
        client = engine_client(
            engine,
            server.base_url,
            timeout=5.0,
            retry_policy=RetryPolicy(max_retries=2, sleep=sleeps),
            retry_budget=RetryBudget(ratio=0, min_per_second=0),
            hooks=[hooks],
        )
        async with client:
            for _ in range(SEARCHES):
                await client.search("US", limit=1)
        await options_client(client).aclose()
    assert server.requests == 2 * SEARCHES - 1  # the resends did happen
    assert sleeps.delays == []
    assert hooks.retries == []
    assert hooks.sent == [1] * SEARCHES
    assert [search.attempts for search in hooks.searches] == [1] * SEARCHES


async def test_a_context_a_connection_keeps_holds_nothing_of_the_request_once_sent() -> None:
    """uvloop's transports keep the context current when they were made for as long as the
    connection is pooled; in it, the watch for stale connections held the request's trace,
    which led back to the connection: a cycle per connection on uvloop."""
    kept: list[contextvars.Context] = []

    def handler(request: httpx.Request) -> httpx.Response:
        kept.append(contextvars.copy_context())  # as a transport made now would keep it
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        response = await _stale.send(http, http.build_request("GET", "http://numbers.test/"))
        await response.aclose()
    watch = kept[0][_stale._WATCH]
    assert watch is not None
    assert watch() is None  # nothing else kept the watch alive: it went with the request
