"""Soak: a flapping provider on real loopback sockets is absorbed by retries, on both transports."""

import asyncio
import time
from typing import cast

import httpx
import pytest
from helpers import connections_in_use, until
from loopback import LoopbackServer, serve_in_thread

from numbers_async import NumbersClient, NumbersError
from numbers_async._transports import POOL_LIMITS, Transport

# The full soak (2,000 searches) is `slow`: `make test-slow` and CI run it; `make test` runs the
# same soak, same faults and same bar, on a tenth of the searches.
SEARCHES = [pytest.param(200, id="200"), pytest.param(2_000, id="2000", marks=pytest.mark.slow)]
# Searches in flight: as many as either transport's pool has connections. More only queue in
# the client's pool, which cost the httpx soak most of its time (28-39 s at 200 in flight) and
# tests nothing that searches within the pool do not.
IN_FLIGHT = POOL_LIMITS.max_connections or 0
FAULTS = {"502": 0.20, "drop": 0.05, "stall": 0.02}
# Long enough that only the stalls (which last until the client hangs up) time out, even when
# other processes share the CPU with the client's tasks; an answer slower than this would only
# be one more retry of the five. The stalls set the soak's length (two in a row: 2 s).
READ_TIMEOUT = 1.0


@pytest.mark.parametrize("searches", SEARCHES)
async def test_flapping_provider_soak(transport: str, searches: int) -> None:
    """Searches against 20% 502s, 5% drops, 2% stalls: ≥99.5% succeed, nothing leaks."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    outcomes: dict[int, list[str] | BaseException] = {}

    # The server answers from its own thread and event loop: on the test's loop, the client's
    # 200 tasks would delay its answers, and a late answer would look like a stall.
    async with serve_in_thread(LoopbackServer(mix=FAULTS, seed=20_000)) as server:
        client = NumbersClient(
            "sk_soak",
            base_url=server.base_url,
            transport=cast(Transport, transport),
            timeout=httpx.Timeout(30.0, read=READ_TIMEOUT),  # stalls time out; nothing else does
            max_retries=5,
            retry_initial_delay=0,
        )

        async def one(index: int) -> None:
            async with gate:
                try:
                    found = await client.search("US", area_code=f"{index:04d}", limit=limit(index))
                    outcomes[index] = [number.phone_number for number in found]
                except Exception as exc:  # recorded, then asserted to be a NumbersError
                    outcomes[index] = exc

        started = time.perf_counter()
        async with client:
            await asyncio.gather(*(one(index) for index in range(searches)))
            busy = connections_in_use(client)
        elapsed = time.perf_counter() - started
        all_closed = await until(lambda: server.open_connections == 0)
        leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        requests, peak = server.requests, server.peak_connections

    failures = [o for o in outcomes.values() if isinstance(o, BaseException)]
    print(
        f"\nsoak[{transport}]: {searches} searches in {elapsed:.2f} s, "
        f"{searches - len(failures)} succeeded ({1 - len(failures) / searches:.2%}), "
        f"{requests} requests seen, {client.requests_sent} attempts, peak {peak} connections, "
        f"failures: {sorted({type(f).__name__ for f in failures})}, "
        f"why: {sorted({note for f in failures for note in getattr(f, '__notes__', [])})}"
    )
    assert len(outcomes) == searches
    assert all(isinstance(failure, NumbersError) for failure in failures), failures[:3]
    assert len(failures) <= searches * 0.005
    for index, outcome in outcomes.items():
        if isinstance(outcome, list):
            assert len(outcome) == len(set(outcome)) == limit(index)
            assert all(number.startswith(f"+1{index:04d}") for number in outcome)
    assert leftover == []
    assert busy == 0  # every connection went back to the pool idle or was discarded
    assert all_closed
    assert requests == client.requests_sent > searches  # the faults did force retries


def limit(index: int) -> int:
    """Sizes from 1 to 50 numbers: one page each."""
    return 1 + index * 7 % 50
