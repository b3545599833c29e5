"""Benchmark jobs in a fresh process: ``python -m benchmarks.client '[<job as JSON>, ...]'``.

The harness gives each process one job; only the smoke test (``--one-process``) batches them.

The job names a client variant and a workload; the result is printed as one JSON line. Each
variant is built the way its users would build it (library defaults), and every search asks for
a full page (the spec's limit maximum) of country US with the key as the spec's security
scheme says, checking it got a full page back.
"""

from __future__ import annotations

import asyncio
import gc
import http.client
import importlib
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from numbers_api.spec_facts import PAGE_MAX, PATH

from numbers_async._auth import key_headers

API_KEY = "sk_bench_key"
HEADERS = key_headers(API_KEY)

Search = Callable[[], Awaitable[int]]


def _check(count: int, expected: int = PAGE_MAX) -> int:
    if count != expected:
        raise RuntimeError(f"expected {expected} numbers, got {count}")
    return count


def _params(limit: int) -> dict[str, str | int]:
    return {"countryCode": "US", "limit": limit}


@asynccontextmanager
async def _raw_httpx(base_url: str, engine: str, limit: int) -> Any:
    """``AsyncClient().get`` + ``.json()`` of httpx or httpx2 (one API); engine "httpx-over-aiohttp"
    is httpx on ``httpx_aiohttp.AiohttpTransport``."""
    httpx = importlib.import_module("httpx2" if engine == "httpx2" else "httpx")
    transport = None
    if engine == "httpx-over-aiohttp":
        import httpx_aiohttp

        transport = httpx_aiohttp.AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        url, params = base_url + PATH, _params(limit)

        async def search() -> int:
            response = await client.get(url, params=params, headers=HEADERS)
            response.raise_for_status()
            return _check(len(response.json()["numbers"]), limit)

        yield search


@asynccontextmanager
async def _raw_aiohttp(base_url: str, limit: int) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        url, params = base_url + PATH, _params(limit)

        async def search() -> int:
            async with session.get(url, params=params, headers=HEADERS) as response:
                response.raise_for_status()
                body = await response.json()
            return _check(len(body["numbers"]), limit)

        yield search


@asynccontextmanager
async def _generated(base_url: str, limit: int) -> Any:
    from numbers_api import AuthenticatedClient
    from numbers_api.api.default import search_available_numbers
    from numbers_api.models import AvailableNumbersResponse

    async with AuthenticatedClient(base_url=base_url, token=API_KEY) as client:

        async def search() -> int:
            response = await search_available_numbers.asyncio_detailed(
                client=client, country_code="US", limit=limit
            )
            if not isinstance(response.parsed, AvailableNumbersResponse):
                raise RuntimeError(f"unexpected response {response.status_code}")
            return _check(len(response.parsed.numbers), limit)

        yield search


def facade(base_url: str, variant: str, **options: Any) -> Any:
    """A NumbersClient for a facade variant ("facade-httpx", "facade-httpx2", "facade-aiohttp"),
    with the library's defaults but for ``options`` whose value is not None."""
    from numbers_async import NumbersClient

    chosen = {name: value for name, value in options.items() if value is not None}
    chosen["transport"] = variant.removeprefix("facade-")
    return NumbersClient(API_KEY, base_url=base_url, **chosen)


@asynccontextmanager
async def _facade(base_url: str, variant: str, limit: int, timeout_s: float | None) -> Any:
    async with facade(base_url, variant, timeout=timeout_s) as client:

        async def search() -> int:
            return _check(len(await client.search("US", limit=limit)), limit)

        yield search


@asynccontextmanager
async def _asyncio_floor(base_url: str, limit: int) -> Any:
    """W6's floor, with no client and no I/O: a search takes one of as many turns as the
    facade's owned pool runs at once, sleeps the server's added latency (``/delay-ms/<ms>`` in
    ``base_url``) and returns ``limit`` typed numbers, which the caller holds as it holds a
    facade's. Its loop stall is what asyncio, the imports and the held results alone make."""
    from numbers_api.models import AvailableNumber

    from numbers_async._request import RUNNING_PER_CONNECTION
    from numbers_async._transports import POOL_SIZE

    latency = urlsplit(base_url).path.rpartition("/delay-ms/")[2]
    delay_s = int(latency) / 1000 if latency.isdigit() else 0.0
    turns = asyncio.Semaphore(RUNNING_PER_CONNECTION * POOL_SIZE)
    item = {"locality": "San Francisco", "administrativeArea": "CA", "phoneNumberType": "local"}

    async def search() -> int:
        async with turns:
            await asyncio.sleep(delay_s)
            numbers = [
                AvailableNumber.from_dict({"phoneNumber": f"+1415555{i:04d}", **item})
                for i in range(limit)
            ]
        return _check(len(numbers), limit)

    yield search


def searcher(
    variant: str, base_url: str, limit: int = PAGE_MAX, timeout_s: float | None = None
) -> AbstractAsyncContextManager[Search]:
    """The search function of a variant (``limit`` numbers a search), inside its client's
    lifetime; ``timeout_s`` is a facade's (None: its default), the raw clients keep their own."""
    if variant in ("raw-httpx", "raw-httpx2", "httpx-over-aiohttp"):
        return _raw_httpx(base_url, variant.removeprefix("raw-"), limit)
    if variant == "raw-aiohttp":
        return _raw_aiohttp(base_url, limit)
    if variant == "generated":
        return _generated(base_url, limit)
    if variant.startswith("facade-"):
        return _facade(base_url, variant, limit, timeout_s)
    if variant == "asyncio-floor":
        return _asyncio_floor(base_url, limit)
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
        for _ in range(job.get("warmup", max(1, min(100, n // 10)))):  # connection, caches
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
    client: NumbersClient = facade(
        job["base_url"], job["variant"], page_concurrency=job["page_concurrency"]
    )
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


CROWD_TIMEOUT_S = 60.0  # the W6 facade's timeout: a search may queue for the pool that long
TICK_S = 0.010  # the W6 ticker's sleep; any lateness beyond it is the event loop's stall


async def _ticker(lateness: list[float], stop: asyncio.Event) -> None:
    """Sleep TICK_S in a loop until ``stop``, appending how late each wake-up came (seconds)."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(TICK_S)
        lateness.append(time.perf_counter() - start - TICK_S)


class _FullCollections:
    """Times CPython's full (generation 2) collections while installed in ``gc.callbacks``."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.durations.append(time.perf_counter() - self._started)


async def _arriving(search: Search, n: int, per_s: float) -> list[object]:
    """``n`` searches started ``per_s`` a second, a batch every TICK_S on a fixed schedule (a
    late loop does not slow the arrivals), as a service's requests arrive; their outcomes."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks: list[asyncio.Future[int]] = []
    while len(tasks) < n:
        due = min(n, int((loop.time() - started) * per_s) + 1)
        tasks += [asyncio.ensure_future(search()) for _ in range(due - len(tasks))]
        await asyncio.sleep(TICK_S)
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def crowd(job: dict[str, Any]) -> dict[str, float]:
    """W6: one warm-up search, then ``n`` searches of ``limit`` numbers on one client, all started
    at once (or, with ``arrive_per_s``, arriving over time), while a ticker task records how late
    the event loop let it run (stalls over ``stall_ms`` are counted). The ticker's first wake-up
    covers the start (creating the tasks and running their first steps, the caller's ``gather``
    as much as the client); the longest full garbage collection is timed apart."""
    n, limit = job["n"], job["limit"]
    outcomes: list[object] = []
    lateness: list[float] = []
    collections = _FullCollections()
    async with searcher(job["variant"], job["base_url"], limit, CROWD_TIMEOUT_S) as search:
        await search()
        if job.get("freeze"):  # as a service may once started: full collections skip this heap
            gc.collect()
            gc.freeze()

        async def run() -> None:
            stop = asyncio.Event()
            ticker = asyncio.create_task(_ticker(lateness, stop))
            await asyncio.sleep(0)  # the ticker is asleep before the crowd starts
            if job.get("arrive_per_s"):
                outcomes.extend(await _arriving(search, n, job["arrive_per_s"]))
            else:
                outcomes.extend(
                    await asyncio.gather(*(search() for _ in range(n)), return_exceptions=True)
                )
            stop.set()
            await ticker  # its last tick covers the crowd's end

        gc.callbacks.append(collections)
        try:
            result = await _timed(job, run)
        finally:
            gc.callbacks.remove(collections)
            gc.unfreeze()  # the next job of a --one-process run starts as it would alone
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:  # what failed, for whoever reruns the job by hand
        kinds = Counter(type(failure).__name__ for failure in failures)
        print(f"{job['variant']}: {dict(kinds)}", file=sys.stderr)
    return {
        **result,
        "n": n,
        "failures": len(failures),
        "max_stall_ms": max(lateness, default=0.0) * 1000,
        "start_stall_ms": lateness[0] * 1000 if lateness else 0.0,
        "later_stall_ms": max(lateness[1:], default=0.0) * 1000,
        "max_full_gc_ms": max(collections.durations, default=0.0) * 1000,
        "long_stalls": sum(late * 1000 > job["stall_ms"] for late in lateness),
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
    "crowd": crowd,
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
