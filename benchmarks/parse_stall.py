"""How long one response at the size limit holds the event loop (issue 13, item 5).

``python -m benchmarks.parse_stall [LIMIT_BYTES ...]`` serves, through httpx.MockTransport, a
200 whose body is a page of full numbers just under each limit (default: the client's default
``max_response_bytes``), runs ``search(limit=10)`` against it while a ticker task records the
longest gap between its ticks, and prints that gap and the CPU time of ``parse_numbers`` alone.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

import httpx

from numbers_async import NumbersClient
from numbers_async._body import DEFAULT_MAX_RESPONSE_BYTES
from numbers_async._parse import parse_numbers

ITEM = {
    "phoneNumber": "+14155550100",
    "locality": "San Francisco",
    "administrativeArea": "CA",
    "phoneNumberType": "local",
    "features": ["sms", "voice", "mms"],
}
RUNS = 20


def body_under(limit: int) -> bytes:
    """A valid page of distinct full numbers, as long as fits in ``limit`` bytes."""
    count = (limit - 20) // (len(json.dumps(ITEM)) + 2)
    numbers = [dict(ITEM, phoneNumber=f"+1{i:010d}") for i in range(count)]
    return json.dumps({"numbers": numbers}).encode()


async def longest_gap(body: bytes, limit: int) -> tuple[float, float]:
    """The longest the loop went without running the ticker during one search, in ms of wall
    time and of this thread's CPU time (the same gap: on a shared machine, wall time also
    counts other processes' turns)."""
    gaps: list[tuple[float, float]] = []

    async def ticker() -> None:
        last = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0)
            now = time.perf_counter(), time.thread_time()
            gaps.append((now[0] - last[0], now[1] - last[1]))
            last = now

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    async with (
        httpx.AsyncClient(transport=transport) as http,
        NumbersClient(
            "sk_bench", base_url="http://numbers.test", http_client=http, max_response_bytes=limit
        ) as client,
    ):
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        await client.search("US", limit=10)
        await asyncio.sleep(0)  # the ticker records the gap the search's last step made
        task.cancel()
    wall, cpu = max(gaps)
    return wall * 1000, cpu * 1000


def main(limits: list[int]) -> None:
    for limit in limits:
        body = body_under(limit)
        cpu = []
        for _ in range(RUNS):
            start = time.thread_time()
            parse_numbers(body, 10)
            cpu.append((time.thread_time() - start) * 1000)
        gaps = [asyncio.run(longest_gap(body, limit)) for _ in range(RUNS)]
        walls, cpus = [wall for wall, _ in gaps], [cpu for _, cpu in gaps]
        print(
            f"limit {limit} B (body {len(body)} B): parse_numbers CPU median "
            f"{statistics.median(cpu):.1f} ms (min {min(cpu):.1f}); longest loop stall in a "
            f"search: wall median {statistics.median(walls):.1f} ms (min {min(walls):.1f}), "
            f"CPU median {statistics.median(cpus):.1f} ms (min {min(cpus):.1f})"
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [DEFAULT_MAX_RESPONSE_BYTES])
