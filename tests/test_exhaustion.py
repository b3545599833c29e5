"""Searches return what exists, against both kinds of server the API may be (one sampling its
inventory at random, one repeating itself), over real loopback sockets on every transport."""

from __future__ import annotations

import asyncio
import copy
import math
import random
import statistics
from typing import Any, cast

import pytest
from helpers import API_KEY
from inventories import (
    BoughtOut,
    FeaturedFirst,
    Growing,
    IgnoresLimit,
    Inventory,
    RandomSample,
    Repeating,
    Slips,
    Trickle,
)
from loopback import LoopbackServer, serve

from numbers_async import NumbersClient
from numbers_async._pagination import PAGE_MAX
from numbers_async._transports import Transport

LIMITS = (60, 101, 250, 499, 500, 501, 777, 1000)
# The full figures (150 searches, 12 seeds) are `slow`: `make test-slow` and CI run
# them; `make test` runs the same checks on fewer searches and seeds.
SEARCHES = [pytest.param(24, id="24"), pytest.param(150, id="150", marks=pytest.mark.slow)]
SEEDS = [pytest.param(3, id="3-seeds"), pytest.param(12, id="12-seeds", marks=pytest.mark.slow)]


def client_for(server: LoopbackServer, transport: str, **options: Any) -> NumbersClient:
    return NumbersClient(
        API_KEY, base_url=server.base_url, transport=cast(Transport, transport), **options
    )


def page_bound(limit: int) -> int:
    """The requests a search may take against a large random inventory: its pages plus 3."""
    return math.ceil(limit / PAGE_MAX) + 3


async def counted_search(client: NumbersClient, limit: int, streamed: bool) -> tuple[int, int, str]:
    """(distinct numbers, page requests, stop reason) of one search or streamed search."""
    if streamed:
        stream = client.iter_search("US", limit=limit)
        phones = [number.phone_number async for number in stream]
        requests, reason = stream.requests, stream.stop_reason
    else:
        result = await client.search("US", limit=limit)
        phones = [number.phone_number for number in result]
        requests, reason = result.requests, result.stop_reason
    assert len(set(phones)) == len(phones)
    assert reason is not None
    return len(phones), requests, reason


@pytest.mark.parametrize("searches", SEARCHES)
@pytest.mark.parametrize("streamed", [False, True], ids=["search", "iter_search"])
async def test_a_large_random_inventory_gives_exactly_the_limit(
    transport: str, streamed: bool, searches: int
) -> None:
    """Searches of 60 to 1,000 numbers from 15,000 sampled at random each return exactly
    `limit` distinct numbers, none taking more than ceil(limit / PAGE_MAX) + 3 requests."""
    inventory = RandomSample(15_000, seed=9)
    draw = random.Random(150)
    limits = [draw.choice(LIMITS) for _ in range(searches)]
    async with (
        serve(LoopbackServer(inventory=inventory)) as server,
        client_for(server, transport) as client,
    ):
        outcomes = []
        for batch in range(0, len(limits), 15):  # 15 at a time: within the pool
            batch_limits = limits[batch:][:15]
            outcomes += await asyncio.gather(
                *(counted_search(client, limit, streamed) for limit in batch_limits)
            )
    assert [found for found, _, _ in outcomes] == limits
    assert {reason for _, _, reason in outcomes} == {"limit"}
    assert all(
        requests <= page_bound(limit)
        for (_, requests, _), limit in zip(outcomes, limits, strict=True)
    )
    assert server.requests <= sum(requests for _, requests, _ in outcomes)
    assert all(1 <= asked <= PAGE_MAX for asked in inventory.limits)


@pytest.mark.parametrize("seeds", SEEDS)
async def test_a_small_random_inventory_is_collected_and_reported_exhausted(
    transport: str, seeds: int
) -> None:
    """Asking 5,000 from 600 numbers sampled at random collects at least 99 % (median over the
    seeds; every seed at least 97 %) in at most 150 requests, and says the inventory ran out."""
    shares = []
    for seed in range(seeds):
        inventory = RandomSample(600, seed=seed)
        async with (
            serve(LoopbackServer(inventory=inventory)) as server,
            client_for(server, transport) as client,
        ):
            numbers = await client.search("US", limit=5000)
        assert {number.phone_number for number in numbers} <= set(inventory.numbers)
        assert (numbers.exhausted, numbers.stop_reason) == (True, "no_progress")
        assert server.requests <= 150
        shares.append(len(numbers) / 600)
    assert statistics.median(shares) >= 0.99
    assert min(shares) >= 0.97


@pytest.mark.parametrize(
    ("inventory", "limit", "expected", "most_requests", "reason"),
    [
        (Repeating(PAGE_MAX), 10 * PAGE_MAX, PAGE_MAX, 12, "no_progress"),
        (Trickle(), 1000, None, 30, "no_progress"),
        (Repeating(30), 100, 30, 1, "short_page"),
        (IgnoresLimit(), 7, 7, 1, "limit"),
        (FeaturedFirst(30, 100_000), 1000, 1000, 55, "limit"),
        (Growing(500, per_answer=20), 2000, 2000, 130, "limit"),
        (Slips(100_000), 1000, 1000, page_bound(1000) + 5, "limit"),
        (BoughtOut(100_000, after=3, left=30), 1000, None, 6 + 4, "short_page"),
    ],
    ids=[
        "repeats-first-50",
        "trickle",
        "inventory-of-30",
        "ignores-limit",
        "featured",
        "growing",
        "slips",
        "bought-out",
    ],
)
async def test_servers_that_repeat_or_misbehave(
    transport: str,
    inventory: Inventory,
    limit: int,
    expected: int | None,
    most_requests: int,
    reason: str,
) -> None:
    """A server repeating its first page gives that page within 12 requests; one trickling a
    single new number per page is no progress (within 30); an inventory of 30 is one request;
    a server ignoring `limit` never pushes the result past it. One listing the same 30 numbers
    first on every page (20 new ones each), or whose inventory grows as it is searched, still
    gives the whole `limit`: its pages keep bringing new numbers. So does one slipping now and
    then (an empty page, a page of 49: it ended searches "exhausted" at 50 or 99 numbers);
    one whose inventory is bought out under the search ends after two short pages in a row of
    numbers it had seen.
    Every request asks 1 to 50 (the spec's maximum)."""
    inventory = copy.deepcopy(inventory)  # as new: the parameter is shared by every transport
    async with (
        serve(LoopbackServer(inventory=inventory)) as server,
        client_for(server, transport) as client,
    ):
        numbers = await client.search("US", limit=limit)
    phones = [number.phone_number for number in numbers]
    assert len(set(phones)) == len(phones)
    if expected is not None:
        assert len(phones) == expected
    assert server.requests <= most_requests
    assert numbers.stop_reason == reason
    assert numbers.exhausted is (reason != "limit")
    assert all(1 <= asked <= PAGE_MAX for asked in inventory.limits)
