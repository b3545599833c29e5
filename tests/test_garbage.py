"""A search leaves no reference cycle behind on any engine, whether it succeeds or fails:
objects in cycles wait for the garbage collector, and its full passes over thousands of
searches stall the event loop (httpx's response and its stream refer to each other; so did a
detached attempt and its task: 32 objects per search). A failed search's error sat in one with
the frames it passed (58-92 objects per search, its response and body among them: an outage's
memory grew to many times what the searches in flight held)."""

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterator

import pytest
from helpers import ENGINES, engine_client, options_client
from loopback import LoopbackServer, serve_in_thread

from numbers_async import NumbersClient


@pytest.fixture
def no_automatic_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
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


# What a closed asyncio socket transport leaves for the collector (CPython 3.11-3.13).
ASYNCIO_TRANSPORT_CYCLE = {
    "_SelectorSocketTransport",
    "TransportSocket",
    "socket",
    "method",
    "dict",
    "tuple",
}
