"""A search leaves no reference cycle behind on any engine, whether it succeeds or fails:
objects in cycles wait for the garbage collector, and its full passes over thousands of
searches stall the event loop (httpx's response and its stream refer to each other; so did a
detached attempt and its task: 32 objects per search). A failed search's error sat in one with
the frames it passed (58-92 objects per search, its response and body among them: an outage's
memory grew to many times what the searches in flight held)."""

import asyncio
import gc
import ssl
from collections.abc import Awaitable, Callable, Iterator

import pytest
from helpers import ENGINES, SleepRecorder, engine_client, options_client, until
from loopback import LoopbackServer, serve, serve_in_thread

from numbers_async import (
    APIConnectionError,
    CertificateVerificationError,
    NumbersClient,
    RetryPolicy,
)

REFUSED = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback


@pytest.fixture
def no_automatic_collection() -> Iterator[None]:
    """No automatic collection, and what existed before the test frozen (``gc.freeze``): the
    test's collections walk only what it made, not the whole heap of a test process (one pass
    over it: 100-150 ms)."""
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


@pytest.mark.parametrize("engine", ENGINES)
async def test_searches_leave_no_cyclic_garbage(engine: str, no_automatic_collection: None) -> None:
    server = LoopbackServer()
    async with serve_in_thread(server):
        async with engine_client(engine, server.base_url) as client:
            for _ in range(5):  # warm: connections open, caches filled
                await client.search("US", limit=5)
            gc.collect()
            for _ in range(20):
                assert len(await client.search("US", limit=5)) == 5
            unreachable = gc.collect()
        await options_client(client).aclose()  # a caller's client is the caller's to close
    assert unreachable == 0


def searching(client: NumbersClient) -> Awaitable[object]:
    return client.search("US", limit=5)


async def streaming(client: NumbersClient) -> object:
    return [number async for number in client.iter_search("US", limit=5)]


async def cancelled(client: NumbersClient) -> object:
    async with asyncio.timeout(0.05):
        return await client.search("US", limit=5)


# (server script for one search, how it searches, client options): each search fails.
FAILURES: dict[
    str, tuple[list[str], Callable[[NumbersClient], Awaitable[object]], dict[str, float]]
] = {
    "400": (["400"], searching, {}),
    "502-until-given-up": (["502"] * 3, searching, {}),
    "dropped-until-given-up": (["drop"] * 3, searching, {}),
    "deadline": (["stall"], searching, {"deadline": 0.05}),
    "cancelled": (["stall"], cancelled, {}),
    "400-streamed": (["400"], streaming, {}),
    "502-streamed": (["502"] * 3, streaming, {}),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("engine", ENGINES)
async def test_failed_searches_leave_no_cyclic_garbage(
    engine: str, failure: str, no_automatic_collection: None
) -> None:
    """Whatever the error (raised as it, given up on after retries, a cancellation), nothing of
    the search waits for a collection: no error, traceback, frame, response or search state.
    Each connection closed on the way leaves asyncio's own (both ends: the server is in this
    process), whose socket transport refers to itself through a bound method it keeps."""
    script, search, options = FAILURES[failure]
    server = LoopbackServer()
    async with serve_in_thread(server):
        client = engine_client(
            engine, server.base_url, retry_initial_delay=0.0, retry_max_delay=0.0, **options
        )
        async with client:
            for round_ in range(4):  # the first ones warm: connections open, caches filled
                if round_ == 1:
                    gc.collect()
                    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds, kept in gc.garbage
                server.script = list(script)
                with pytest.raises((Exception, asyncio.CancelledError)):
                    await search(client)
            gc.collect()
            gc.set_debug(0)
            found = {type(garbage).__name__ for garbage in gc.garbage}
            gc.garbage.clear()
        await options_client(client).aclose()
    assert found - ASYNCIO_TRANSPORT_CYCLE == set()


# What a closed asyncio socket transport leaves for the collector (CPython 3.11-3.13; from
# 3.12 its write buffer is a deque).
ASYNCIO_TRANSPORT_CYCLE = {
    "_SelectorSocketTransport",
    "TransportSocket",
    "socket",
    "method",
    "dict",
    "tuple",
    "deque",
}


def callers_own_error() -> None:
    """The caller's code, failing: its frame's locals are the caller's to see."""
    mine = "the caller's"
    raise ssl.SSLCertVerificationError(1, f"{mine} own certificate error")


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_search_failing_while_its_caller_handles_an_error_leaves_that_error_alone(
    engine: str,
) -> None:
    """A search refused a connection inside the caller's ``except`` block: the engines' first
    error has the caller's as its context. Its frames keep their locals (they were cleared,
    and on Python 3.11-3.12 clearing a suspended coroutine's frame closes it), and it does not
    make the failure a CertificateVerificationError (it was one, not retried)."""
    client = engine_client(engine, REFUSED, retry_policy=RetryPolicy(sleep=SleepRecorder()))
    async with client:
        try:
            callers_own_error()
        except ssl.SSLCertVerificationError as own:
            with pytest.raises(APIConnectionError) as caught:
                await client.search("US")
            held = own.__traceback__
    await options_client(client).aclose()
    assert held is not None
    assert held.tb_next is not None
    assert held.tb_next.tb_frame.f_locals == {"mine": "the caller's"}
    assert not isinstance(caught.value, CertificateVerificationError)
    assert caught.value.attempts == 3


@pytest.mark.parametrize("engine", ["httpx", "httpx2"])
async def test_a_client_dropped_unclosed_closes_its_connections(engine: str) -> None:
    """A client garbage-collected without aclose() (a code path that forgot it): its pooled
    connections close, each with a ResourceWarning, as a socket dropped unclosed does (the
    loop kept each reading for ever: 100 clients dropped held 100 connections open)."""
    server = LoopbackServer()
    async with serve(server):
        clients = [engine_client(engine, server.base_url)]
        await clients[0].search("US", limit=5)
        assert server.open_connections == 1
        with pytest.warns(ResourceWarning, match="dropped unclosed: close the NumbersClient"):
            await dropped(clients)
        assert await until(lambda: server.open_connections == 0)


async def dropped(clients: list[NumbersClient]) -> None:
    """Drop every client of ``clients``, let the loop run the wake-up of their last responses
    (which refer to them), and collect what is left."""
    clients.clear()
    await asyncio.sleep(0)
    gc.collect()
