"""Both transports over real loopback sockets: same results, same retries, same NumbersError."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from helpers import API_KEY, SleepRecorder, until
from loopback import LoopbackServer, serve

from numbers_async import (
    APIConnectionError,
    APITimeoutError,
    InvalidRequestError,
    NumbersClient,
    ProviderError,
    RetryPolicy,
)
from numbers_async._transports import Transport


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    async with serve(LoopbackServer()) as running:
        yield running


def client_for(server: LoopbackServer, transport: str, **options: Any) -> NumbersClient:
    client = NumbersClient(
        API_KEY,
        base_url=server.base_url,
        transport=cast(Transport, transport),
        retry_policy=RetryPolicy(sleep=SleepRecorder()),
        **options,
    )
    return client


async def test_search_over_real_sockets(server: LoopbackServer, transport: str) -> None:
    """A 120-number search over loopback returns 120 distinct numbers on either transport."""
    async with client_for(server, transport) as client:
        numbers = await client.search("US", limit=120)
    assert len({n.phone_number for n in numbers}) == 120
    assert server.requests == 3


@pytest.mark.parametrize(
    ("script", "error", "requests"),
    [
        (["502"] * 3, ProviderError, 3),
        (["drop"] * 3, APIConnectionError, 3),
        (["garbage"] * 3, APIConnectionError, 3),
        (["stall"] * 3, APITimeoutError, 3),
    ],
    ids=["502", "dropped-mid-body", "not-http", "stalled"],
)
async def test_failures_map_to_the_same_error_on_both_transports(
    server: LoopbackServer,
    transport: str,
    script: list[str],
    error: type[Exception],
    requests: int,
) -> None:
    """502s, dropped connections, non-HTTP replies and stalls raise the same NumbersError."""
    server.script = list(script)
    async with client_for(server, transport, timeout=0.2, max_retries=2) as client:
        with pytest.raises(error) as caught:
            await client.search("US", limit=10)
    assert type(caught.value) is error
    assert server.requests == requests
    assert client.requests_sent == requests


@pytest.mark.parametrize("failure", ["502", "drop", "garbage", "stall"])
async def test_each_failure_is_retried_to_success(
    server: LoopbackServer, transport: str, failure: str
) -> None:
    """One failure of any kind, then a good answer: the search succeeds on the retry."""
    server.script = [failure]
    async with client_for(server, transport, timeout=0.2) as client:
        numbers = await client.search("US", limit=5)
    assert len(numbers) == 5
    assert server.requests == 2


async def test_connections_are_closed_with_the_client(
    server: LoopbackServer, transport: str
) -> None:
    """After aclose(), the server sees no open connection."""
    async with client_for(server, transport) as client:
        await asyncio.gather(*(client.search("US", limit=5) for _ in range(20)))
        assert server.open_connections > 0
    assert await until(lambda: server.open_connections == 0)


def test_unknown_transport_is_refused() -> None:
    """transport= only takes 'httpx' or 'aiohttp'."""
    with pytest.raises(InvalidRequestError, match="transport"):
        NumbersClient(API_KEY, base_url="http://127.0.0.1:1", transport="curl")  # type: ignore[arg-type]
