"""A bench run rendered as BENCHMARKS.md: the header, the method, one table per workload."""

from __future__ import annotations

import inspect
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks.results import (
    DASH,
    TIMES,
    W5_SETTINGS,
    W6_ARRIVAL_PER_S,
    W6_ARRIVING,
    W6_FROZEN,
    W6_LIMIT,
    W6_STALL_MS,
    Results,
    cpu_us,
    import_ms,
    rate,
    ratio,
    server_busy,
    stat,
    wall_us,
)
from benchmarks.targets import targets

PACKAGES = (
    "numbers-async",
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "aiohttp",
    "httpx-aiohttp",
    "attrs",
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> str:
    aligns = ["---"] * text_columns + ["---:"] * (len(header) - text_columns)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(aligns) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _machine() -> str:
    system = f"{platform.system()} {platform.release()}"
    python = f"Python {platform.python_version()} ({sys.implementation.name})"
    return f"{os.cpu_count()} CPUs ({_cpu_model()}), {system}, {python}"


def _default_page_concurrency() -> str:
    from numbers_async import NumbersClient

    parameter = inspect.signature(NumbersClient).parameters.get("page_concurrency")
    return "?" if parameter is None else str(parameter.default)


def header(results: Results, command: str) -> str:
    """Title, how to reproduce, and what it ran on."""
    load = ", ".join(
        f"{a:.2f}/{b:.2f}" for a, b in zip(results.load_before, results.load_after, strict=True)
    )
    return f"""# Benchmarks

Written by `make bench` (`benchmarks/`); do not edit by hand, rerun it. Benchmarks are not tests:
`make test` only runs a smoke test of this harness on tiny sizes and asserts no timing.

| | |
|---|---|
| command | `{command}` |
| date | {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")} |
| run time | {results.duration_s:.0f} s |
| machine | {_machine()} |
| load average (1/5/15 min), before/after | {load} |
| packages | {_versions()} |
| commit (when the run started) | {results.commit} |
| sizes | {", ".join(f"{k}={v}" for k, v in results.sizes.items())} |
"""


def method(results: Results) -> str:
    """How the numbers were taken."""
    placement = (
        "the server is pinned to one CPU and every client process to the other"
        if results.pinned
        else "server and clients are not pinned (`--no-pin`, or fewer than two CPUs)"
    )
    return f"""## How it is measured

- **Server** (`benchmarks/server.py`): a raw asyncio `Protocol` on 127.0.0.1 (ephemeral port),
  one process, HTTP/1.1 keep-alive, precomputed 50-number bodies (all five fields of
  `AvailableNumber`) where a request counter makes every phone number new, `limit` honoured
  exactly; a `/delay-ms/<ms>` path prefix adds latency without blocking other requests (W3, W6).
  It reports its own CPU time, so each run shows how busy it was.
- **Placement**: {placement} (the machine has {os.cpu_count()} CPUs).
- **Clients** (`benchmarks/client.py`): each job runs in a fresh `python` process, built with
  the library's defaults as a user would: `raw-httpx` is `httpx.AsyncClient().get(...)` +
  `.json()`; `raw-aiohttp` is `aiohttp.ClientSession().get(...)` + `.json()` (the floor);
  `generated` is `numbers_api.AuthenticatedClient` + `search_available_numbers.asyncio_detailed`;
  `facade-httpx` / `facade-httpx2` / `facade-aiohttp` are
  `NumbersClient(transport="httpx" | "httpx2" | "aiohttp").search(...)`; `raw-httpx2` is
  `httpx2.AsyncClient().get(...)` + `.json()`; `httpx-over-aiohttp` is
  `httpx.AsyncClient(transport=httpx_aiohttp.AiohttpTransport())`, for reference. Every search
  asks for 50 numbers and checks it got 50. Each job warms up (connections open) before its
  timed section.
- **Rounds**: {results.sizes["rounds"]}; each round runs every variant once per workload, the
  order rotated each round. Figures are `median (min{DASH}max)` over rounds; a ratio is computed
  within each round against that round's `raw-httpx` (or the named baseline), then summarised.
  CPU is the client process's `time.process_time()`; wall is `time.perf_counter()`.
- **Profiles**: `python -m benchmarks.profile W2 facade-aiohttp` (W1 or W2, any variant) runs
  one job the same way under pyinstrument and prints where its timed section spends CPU.
{_sniffio_note()}"""


def _sniffio_note() -> str:
    """A warning when sniffio is missing: httpcore then retries importing it on every request."""
    try:
        metadata.version("sniffio")
    except metadata.PackageNotFoundError:
        return (
            "- **sniffio is not installed**: httpcore's `current_async_library()` then attempts\n"
            "  `import sniffio` (a failing search of `sys.path`) several times per request, which\n"
            "  inflates the CPU of every httpx-transport variant here (not the aiohttp ones).\n"
        )
    return ""


def ceiling_section(results: Results) -> str:
    """The server's own ceiling, so a reader knows it was not the limit."""
    c = results.ceiling
    if not c:
        return ""
    per_request = c["server_cpu_s"] / c["server_requests"] * 1e6
    capacity = 1e6 / per_request
    w2_rates = {
        name: statistics.median(results.values("W2", name, rate))
        for name in results.runs.get("W2", {})
    }
    fastest = max(w2_rates, key=w2_rates.__getitem__, default=None)
    busy = results.values("W2", fastest, server_busy) if fastest else []
    headroom = capacity / max(w2_rates.values(), default=capacity)
    sizes = results.sizes
    return f"""## Server ceiling

Raw aiohttp with {sizes["ceiling_concurrency"]} in flight ({sizes["ceiling_searches"]:,} searches)
reached **{rate(c):,.0f} searches/s** while the server used {server_busy(c):.0f}% of one core.
The server spends **{per_request:.0f} µs of CPU per request**: a capacity of about
**{capacity:,.0f} requests/s on one core**, {headroom:.1f}{TIMES}
the fastest W2 client (`{fastest}`, during whose runs the server was busy {stat(busy)}% of one
core). The client side is what these figures measure.
"""


def w1_section(results: Results) -> str:
    """W1: sequential searches."""
    rows = [
        [
            f"`{name}`",
            stat(results.values("W1", name, cpu_us)),
            ratio(results.ratios("W1", name, cpu_us)),
            stat(results.values("W1", name, wall_us)),
            ratio(results.ratios("W1", name, wall_us)),
        ]
        for name in results.runs.get("W1", {})
    ]
    table = _table(
        ["client", "CPU µs / search", "CPU vs raw httpx", "wall µs / search", "wall vs raw httpx"],
        rows,
    )
    return f"## W1: {results.sizes['w1_searches']:,} sequential searches of 50\n\n{table}\n"


def w2_section(results: Results) -> str:
    """W2: concurrent searches through one client."""
    rows = [
        [
            f"`{name}`",
            stat(results.values("W2", name, rate)),
            ratio(results.ratios("W2", name, rate)),
            stat(results.values("W2", name, cpu_us)),
            ratio(results.ratios("W2", name, cpu_us)),
            stat(results.values("W2", name, lambda run: run["cpu_s"] / run["wall_s"] * 100)),
            stat(results.values("W2", name, server_busy)),
            stat(results.values("W2", name, lambda run: run["server_connections"])),
        ]
        for name in results.runs.get("W2", {})
    ]
    table = _table(
        [
            "client",
            "searches/s",
            "vs raw httpx",
            "CPU µs / search",
            "CPU vs raw httpx",
            "client CPU % of wall",
            "server CPU % of a core",
            "connections opened (timed part)",
        ],
        rows,
    )
    sizes = results.sizes
    return (
        f"## W2: {sizes['w2_searches']:,} searches of 50, {sizes['w2_concurrency']} in flight, "
        "one client\n\nA client that is the bottleneck keeps its core near 100% busy; well below "
        "that, it waited for the server or was preempted by other load on the machine (CPU µs per "
        f"search is the figure that load disturbs least).\n\n{table}\n"
    )


def w3_section(results: Results) -> str:
    """W3: one large search against a slow server."""
    rows = [
        [
            f"`{name}`",
            stat(results.values("W3", name, lambda run: run["single_s"] * 1000), ".1f"),
            stat(results.values("W3", name, lambda run: run["large_s"] * 1000), ".1f"),
            ratio(results.values("W3", name, lambda run: run["large_s"] / run["single_s"])),
            stat(results.values("W3", name, lambda run: run["requests"])),
        ]
        for name in results.runs.get("W3", {})
    ]
    sizes = results.sizes
    table = _table(
        [
            "client",
            "one request, ms",
            f"search(limit={sizes['w3_limit']:,}), ms",
            f"{TIMES} one request",
            "requests",
        ],
        rows,
    )
    return (
        f"## W3: `search(limit={sizes['w3_limit']:,})`, server adds {sizes['w3_latency_ms']} ms "
        f"per request\n\nThe default `page_concurrency` is {_default_page_concurrency()}. "
        f"Each figure is the median of {sizes['w3_reps']} searches in one process (after a "
        f"warm-up search), then summarised over rounds.\n\n{table}\n"
    )


def _rss_mib(run: dict[str, float]) -> float:
    return run["maxrss_kib"] / 1024


def w4_section(results: Results) -> str:
    """W4: peak RSS while streaming."""
    rows = []
    for name, runs in results.runs.get("W4", {}).items():
        variant = name.split(":")[0]
        base = results.values("W4", f"{variant}: import only", _rss_mib)
        rss = [_rss_mib(run) for run in runs]
        rows.append(
            [
                f"`{name}`",
                stat(rss, ".1f"),
                stat([a - b for a, b in zip(rss, base, strict=True)], "+.1f"),
            ]
        )
    table = _table(["process", "peak RSS, MiB", "over import only, MiB"], rows)
    small, large = results.sizes["w4_small"], results.sizes["w4_large"]
    dedup = results.dedup_bytes
    set_large, set_small = dedup.get(large, 0) / 2**20, dedup.get(small, 0) / 2**20
    return f"""## W4: peak RSS (`ru_maxrss`) while `iter_search` streams numbers

Each row is its own process. The de-duplication set (the only state that should grow) holds
{set_large:.1f} MiB for {large:,} numbers and {set_small:.1f} MiB for {small:,}:
{set_large - set_small:.1f} MiB between them.

{table}
"""


def w5_section(results: Results) -> str:
    """W5: import time, as installed and in a minimal environment."""
    rows = []
    for setting, hidden in W5_SETTINGS.items():
        httpx_ms = import_ms(results, "httpx", setting)
        ours_ms = import_ms(results, "numbers_async", setting)
        label = f"{setting} ({', '.join(hidden)} hidden)" if hidden else setting
        rows += [
            [f"`import httpx`, {label}", stat(httpx_ms, ".1f"), f"1.00{TIMES}"],
            [
                f"`import numbers_async`, {label}",
                stat(ours_ms, ".1f"),
                ratio([a / b for a, b in zip(ours_ms, httpx_ms, strict=True)]),
            ],
        ]
    table = _table(["statement", "cumulative import, ms", "vs httpx"], rows)
    lazy = (
        ", ".join(results.lazy_modules) or "none of aiohttp, httpx_aiohttp, numbers_async._aiohttp"
    )
    runs = len(import_ms(results, "httpx", "minimal"))
    return f"""## W5: import time (`python -X importtime`, fresh process, {runs} runs each)

`import httpx` also imports httpx's command line (click, pygments, rich) when those happen to be
installed, as they are in this dev environment; the minimal rows hide them, as in a service that
installs only numbers-async.

{table}

Modules of the fast transport loaded by `import numbers_async`: {lazy}.
"""


def w6_section(results: Results) -> str:
    """W6: a crowd of searches started at once against a slow server."""

    def column(metric: str, spec: str = ",.0f") -> Callable[[str], str]:
        return lambda name: stat(results.values("W6", name, lambda run: run[metric]), spec)

    columns = (
        column("wall_s", ".2f"),
        column("failures"),
        column("max_stall_ms"),
        column("start_stall_ms"),
        column("later_stall_ms"),
        column("max_full_gc_ms"),
        column("long_stalls"),
        column("server_connections"),
        column("cpu_s", ".2f"),
    )
    names = results.runs.get("W6", {})
    rows = [[f"`{name}`", *(cell(name) for cell in columns)] for name in names]
    table = _table(
        [
            "client",
            "wall, s",
            "failures",
            "longest loop stall, ms",
            "at the start, ms",
            "longest after it, ms",
            "longest full GC, ms",
            f"stalls over {W6_STALL_MS:.0f} ms",
            "connections opened",
            "client CPU, s",
        ],
        rows,
    )
    sizes = results.sizes
    return f"""## W6: {sizes["w6_searches"]:,} searches of {W6_LIMIT} started at once, server adds \
{sizes["w6_latency_ms"]} ms per request, one client

Each job builds one client with the library's defaults except `timeout=60` (`raw-aiohttp`: a
default `ClientSession`, for reference; `asyncio-floor`: no client and no I/O, each search
taking one of as many turns as the facade runs at once, sleeping the server's latency and
returning typed numbers: the stall asyncio, the imports and the results the caller holds make
alone on this machine), makes one warm-up search, then starts every search at
once (`asyncio.gather(..., return_exceptions=True)`); a failure is a search that raised. A
ticker task sleeps 10 ms in a loop meanwhile: a stall is how late it woke beyond those 10 ms.
Its first wake-up comes after the start: `gather` creating every task (and the full garbage
collection those allocations set off) and then every search's first step, which only queues it
for its turn: `at the start` is that stall, `longest after it` the longest of the others. The
longest full (generation 2) collection is timed apart (`gc.callbacks`): those passes walk every
object alive (the start-up heap's 33,000-45,000, the caller's tasks and results, what each
search holds), and the stalls after the start are such a pass and the rest of the iteration it
falls in.
Connections are those the server saw opened during the timed part. `{W6_FROZEN}` is
`facade-httpx` in a process that called `gc.freeze()` after the warm-up, as the README suggests
to services: the passes then skip the start-up heap. `{W6_ARRIVING}` is `facade-httpx` with the
same searches started {W6_ARRIVAL_PER_S:,} a second (a batch every 10 ms) instead of in one
`gather`, as a service's requests arrive: there is no start burst, thousands still wait at once.

{table}
"""


def _verdict(passed: bool | None) -> str:
    return "reference" if passed is None else "pass" if passed else "**FAIL**"


def targets_section(results: Results) -> str:
    """The issue's targets, pass or fail (reported, never asserted)."""
    rows = [
        [t.name, t.wanted, t.measured, ratio(t.ratios), _verdict(t.passed)]
        for t in targets(results)
    ]
    table = _table(["target", "wanted", "measured", "ratio", "result"], rows, text_columns=3)
    return (
        "## Targets\n\nRatios are median (min-max) of the per-round ratios; pass or fail is "
        "decided on the median (W4: growth / allowance; W6: wall or stall / limit; <= 1 "
        "passes; W6 failures: none in any round).\n\n" + table + "\n"
    )


def render(results: Results, command: str) -> str:
    """The whole BENCHMARKS.md."""
    parts = [
        header(results, command),
        targets_section(results),
        method(results),
        ceiling_section(results),
        w1_section(results),
        w2_section(results),
        w3_section(results),
        w4_section(results),
        w5_section(results),
        w6_section(results),
    ]
    return "\n".join(part for part in parts if part)
