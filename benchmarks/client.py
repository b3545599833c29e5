"""Benchmark jobs in a fresh process: ``python -m benchmarks.client '[<job as JSON>, ...]'``.

The harness gives each process one job; only the smoke test (``--one-process``) batches them.

The job names a client variant and a workload; the result is printed as one JSON line. Each
variant is built the way its users would build it (library defaults), and every search asks for
a full page (the spec's limit maximum) of country US with the key as the spec's security
scheme says, checking it got a full page back.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from numbers_api.spec_facts import PAGE_MAX, PATH

from numbers_async._auth import key_headers

API_KEY = "sk_bench_key"
PARAMS: dict[str, str | int] = {"countryCode": "US", "limit": PAGE_MAX}
HEADERS = key_headers(API_KEY)

Search = Callable[[], Awaitable[int]]


def _check(count: int, expected: int = PAGE_MAX) -> int:
    if count != expected:
        raise RuntimeError(f"expected {expected} numbers, got {count}")
    return count


@asynccontextmanager
async def _raw_httpx(base_url: str, aiohttp_transport: bool) -> Any:
    import httpx

    transport = None
    if aiohttp_transport:
        import httpx_aiohttp

        transport = httpx_aiohttp.AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        url = base_url + PATH

        async def search() -> int:
            response = await client.get(url, params=PARAMS, headers=HEADERS)
            response.raise_for_status()
            return _check(len(response.json()["numbers"]))

        yield search


@asynccontextmanager
async def _raw_httpx2(base_url: str) -> Any:
    import httpx2

    async with httpx2.AsyncClient() as client:
        url = base_url + PATH

        async def search() -> int:
            response = await client.get(url, params=PARAMS, headers=HEADERS)
            response.raise_for_status()
            return _check(len(response.json()["numbers"]))

        yield search


@asynccontextmanager
async def _raw_aiohttp(base_url: str) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        url = base_url + PATH

        async def search() -> int:
            async with session.get(url, params=PARAMS, headers=HEADERS) as response:
                response.raise_for_status()
                body = await response.json()
            return _check(len(body["numbers"]))

        yield search


@asynccontextmanager
async def _generated(base_url: str) -> Any:
    from numbers_api import AuthenticatedClient
    from numbers_api.api.default import search_available_numbers
    from numbers_api.models import AvailableNumbersResponse

    async with AuthenticatedClient(base_url=base_url, token=API_KEY) as client:

        async def search() -> int:
            response = await search_available_numbers.asyncio_detailed(
                client=client, country_code="US", limit=PAGE_MAX
            )
            if not isinstance(response.parsed, AvailableNumbersResponse):
                raise RuntimeError(f"unexpected response {response.status_code}")
            return _check(len(response.parsed.numbers))

        yield search


def facade(base_url: str, variant: str, page_concurrency: int | None = None) -> Any:
    """A NumbersClient for a facade variant ("facade-httpx", "facade-httpx2", "facade-aiohttp")."""
    from numbers_async import NumbersClient

    options: dict[str, Any] = {"transport": variant.removeprefix("facade-")}
    if page_concurrency is not None:
        options["page_concurrency"] = page_concurrency
    return NumbersClient(API_KEY, base_url=base_url, **options)


@asynccontextmanager
async def _facade(base_url: str, variant: str) -> Any:
    async with facade(base_url, variant) as client:

        async def search() -> int:
            return _check(len(await client.search("US", limit=PAGE_MAX)))

        yield search


def searcher(variant: str, base_url: str) -> AbstractAsyncContextManager[Search]:
    """The search function of a variant, inside its client's lifetime."""
    if variant == "raw-httpx":
        return _raw_httpx(base_url, aiohttp_transport=False)
    if variant == "httpx-over-aiohttp":
        return _raw_httpx(base_url, aiohttp_transport=True)
    if variant == "raw-aiohttp":
        return _raw_aiohttp(base_url)
    if variant == "raw-httpx2":
        return _raw_httpx2(base_url)
    if variant == "generated":
        return _generated(base_url)
    if variant.startswith("facade-"):
        return _facade(base_url, variant)
    raise ValueError(f"unknown variant {variant!r}")


def server_stats(base_url: str) -> dict[str, float]:
    """The server's counters and CPU seconds (a blocking call, outside timed sections)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("GET", "/_stats")
        stats: dict[str, float] = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return stats


def _server_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {
        "server_cpu_s": after["cpu_s"] - before["cpu_s"],
        "server_requests": after["requests"] - before["requests"] - 1,  # less the stats call
        "server_connections": after["connections"] - before["connections"] - 1,
    }


def _save_profile(profiler: Any, path: Path, show_all: bool) -> None:
    """Write a pyinstrument profile as text (``show_all`` keeps library frames)."""
    path.write_text(profiler.output_text(color=False, show_all=show_all), encoding="utf-8")


async def _timed(job: dict[str, Any], run: Callable[[], Awaitable[None]]) -> dict[str, float]:
    """Time ``run`` (CPU and wall) and the server's work meanwhile; profile it if asked."""
    profiler = None
    if job.get("profile"):
        from pyinstrument import Profiler  # only for `python -m benchmarks.profile`

        profiler = Profiler(interval=0.0002, async_mode="disabled")
    before = server_stats(job["base_url"])
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.start()
    await run()
    if profiler is not None:
        profiler.stop()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler is not None:
        _save_profile(profiler, Path(job["profile"]), job.get("profile_all", False))
    return {"cpu_s": cpu, "wall_s": wall, **_server_delta(before, server_stats(job["base_url"]))}


async def sequential(job: dict[str, Any]) -> dict[str, float]:
    """W1: ``n`` searches one after another."""
    n = job["n"]
    async with searcher(job["variant"], job["base_url"]) as search:
        for _ in range(max(1, min(100, n // 10))):  # warm-up: connection, caches
            await search()

        async def run() -> None:
            for _ in range(n):
                await search()

        result = await _timed(job, run)
    return {**result, "n": n}


async def concurrent(job: dict[str, Any]) -> dict[str, float]:
    """W2 (and the server ceiling): ``n`` searches by ``concurrency`` tasks on one client."""
    n, width = job["n"], job["concurrency"]
    async with searcher(job["variant"], job["base_url"]) as search:

        async def burst(total: int) -> None:
            left = total

            async def worker() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    await search()

            await asyncio.gather(*(worker() for _ in range(width)))

        await burst(2 * width)  # warm-up: open the pool's connections
        result = await _timed(job, lambda: burst(n))
    return {**result, "n": n}


async def large_search(job: dict[str, Any]) -> dict[str, float]:
    """W3: one request's latency, then ``search(limit=job['limit'])`` wall times."""
    from numbers_async import NumbersClient

    limit, reps = job["limit"], job["reps"]
    client: NumbersClient = facade(job["base_url"], job["variant"], job["page_concurrency"])
    async with client:
        await client.search("US", limit=limit)  # warm-up: opens the connections pages use
        singles, larges = [], []
        for _ in range(reps):
            start = time.perf_counter()
            _check(len(await client.search("US", limit=PAGE_MAX)))
            singles.append(time.perf_counter() - start)
        sent = client.requests_sent
        for _ in range(reps):
            start = time.perf_counter()
            _check(len(await client.search("US", limit=limit)), limit)
            larges.append(time.perf_counter() - start)
        requests = (client.requests_sent - sent) / reps
    return {
        "single_s": statistics.median(singles),
        "large_s": statistics.median(larges),
        "requests": requests,
    }


async def memory(job: dict[str, Any]) -> dict[str, float]:
    """W4: peak RSS after importing the library, then after streaming or listing numbers."""
    import numbers_async

    if job["variant"] == "facade-aiohttp":
        import numbers_async._aiohttp  # what transport="aiohttp" loads

    count = 0
    mode, n = job["mode"], job.get("n", 0)
    if mode != "import":
        async with facade(job["base_url"], job["variant"]) as client:
            if mode == "stream":
                async for number in client.iter_search("US", limit=n):
                    count += 1
                    del number
            else:
                held: list[numbers_async.AvailableNumber] = await client.search("US", limit=n)
                count = len(held)
        if count != n:
            raise RuntimeError(f"expected {n} numbers, got {count}")
    return {"maxrss_kib": float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), "n": count}


WORKLOADS: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, float]]]] = {
    "sequential": sequential,
    "concurrent": concurrent,
    "large": large_search,
    "memory": memory,
}


def main() -> None:
    """Run the jobs given as a JSON list in argv[1], in order; print their results as JSON."""
    jobs = json.loads(sys.argv[1])
    results = []
    for job in jobs:
        if job.get("cpu") is not None:
            os.sched_setaffinity(0, {job["cpu"]})
        results.append(asyncio.run(WORKLOADS[job["workload"]](job)))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
