"""A successful search leaves no reference cycle behind on any engine: objects in cycles wait
for the garbage collector, and its full passes over thousands of searches stall the event loop
(httpx's response and its stream refer to each other; so did a detached attempt and its task:
32 objects per search)."""

import gc
from collections.abc import Iterator

import pytest
from helpers import ENGINES, engine_client, options_client
from loopback import LoopbackServer, serve_in_thread


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
