"""The results of a bench run and their rendering as BENCHMARKS.md (medians, ranges, targets)."""

from __future__ import annotations

import inspect
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "raw-httpx"
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
TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"
MEMORY_SLACK_KIB = 2048  # allocator and buffer noise allowed on top of the de-duplication set

# httpx imports its command line (click, pygments, rich: ~40 ms) whenever those are installed, as
# in a dev environment; "minimal" hides them, as in a service that installs numbers-async alone.
W5_SETTINGS: dict[str, tuple[str, ...]] = {
    "as installed": (),
    "minimal": ("click", "pygments", "rich"),
}

W3_RUNS: tuple[tuple[str, str, int | None], ...] = (
    ("facade-httpx, default page_concurrency", "facade-httpx", None),
    ("facade-httpx, page_concurrency=1", "facade-httpx", 1),
    ("facade-aiohttp, default page_concurrency", "facade-aiohttp", None),
)


def w4_runs(small: int, large: int) -> list[tuple[str, str, str, int]]:
    """(row name, variant, mode, numbers) of each W4 process."""
    runs = []
    for variant in ("facade-httpx", "facade-aiohttp"):
        runs += [
            (f"{variant}: import only", variant, "import", 0),
            (f"{variant}: iter_search {small:,}", variant, "stream", small),
            (f"{variant}: iter_search {large:,}", variant, "stream", large),
        ]
    runs.append(
        (f"facade-httpx: search() list of {large:,} (for contrast)", "facade-httpx", "list", large)
    )
    return runs


@dataclass
class Results:
    """Every job's result, per workload and row, in round order."""

    sizes: dict[str, int]
    pinned: bool
    runs: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)
    ceiling: dict[str, float] = field(default_factory=dict)
    lazy_modules: list[str] = field(default_factory=list)
    dedup_bytes: dict[int, int] = field(default_factory=dict)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    duration_s: float = 0.0
    commit: str = field(default_factory=lambda: git_commit())  # the code measured: read at start

    def add(self, workload: str, name: str, result: dict[str, float]) -> None:
        """Record one job's result."""
        self.runs.setdefault(workload, {}).setdefault(name, []).append(result)

    def values(
        self, workload: str, name: str, metric: Callable[[dict[str, float]], float]
    ) -> list[float]:
        """``metric`` of each run of a row, in round order."""
        return [metric(run) for run in self.runs.get(workload, {}).get(name, [])]

    def ratios(
        self,
        workload: str,
        name: str,
        metric: Callable[[dict[str, float]], float],
        baseline: str = BASELINE,
    ) -> list[float]:
        """Per-round ratio of a row's metric to the baseline row's metric in the same round."""
        ours = self.values(workload, name, metric)
        theirs = self.values(workload, baseline, metric)
        return [a / b for a, b in zip(ours, theirs, strict=True) if b]


def cpu_us(run: dict[str, float]) -> float:
    """Client CPU µs per search."""
    return run["cpu_s"] / run["n"] * 1e6


def wall_us(run: dict[str, float]) -> float:
    """Wall µs per search."""
    return run["wall_s"] / run["n"] * 1e6


def rate(run: dict[str, float]) -> float:
    """Searches per second."""
    return run["n"] / run["wall_s"]


def server_busy(run: dict[str, float]) -> float:
    """Server CPU as a percentage of one core during the timed section."""
    return run["server_cpu_s"] / run["wall_s"] * 100


def stat(values: Sequence[float], spec: str = ",.0f") -> str:
    """``median (min-max)``, or the single value, or a dash."""
    if not values:
        return DASH
    middle = format(statistics.median(values), spec)
    if len(values) == 1:
        return middle
    return f"{middle} ({format(min(values), spec)}{DASH}{format(max(values), spec)})"


def ratio(values: Sequence[float]) -> str:
    """A ratio's median and range, as ``1.23x (1.10-1.30)``."""
    if not values:
        return DASH
    text = stat(values, ".2f")
    head, _, rest = text.partition(" ")
    return f"{head}{TIMES}" + (f" {rest}" if rest else "")


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


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "numbers_async", "benchmarks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else "unknown"


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
  exactly; a `/delay-ms/<ms>` path prefix adds latency without blocking other requests (W3).
  It reports its own CPU time, so each run shows how busy it was.
- **Placement**: {placement} (the machine has {os.cpu_count()} CPUs).
- **Clients** (`benchmarks/client.py`): each job runs in a fresh `python` process, built with
  the library's defaults as a user would: `raw-httpx` is `httpx.AsyncClient().get(...)` +
  `.json()`; `raw-aiohttp` is `aiohttp.ClientSession().get(...)` + `.json()` (the floor);
  `generated` is `numbers_api.AuthenticatedClient` + `search_available_numbers.asyncio_detailed`;
  `facade-httpx` / `facade-aiohttp` are `NumbersClient(transport="httpx" | "aiohttp").search(...)`;
  `httpx-over-aiohttp` is `httpx.AsyncClient(transport=httpx_aiohttp.AiohttpTransport())`, for
  reference. Every search asks for 50 numbers and checks it got 50. Each job warms up (connections
  open) before its timed section.
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


def w4_growth(results: Results, variant: str, small: int, large: int) -> list[float]:
    """Per-round peak-RSS growth (KiB) from streaming ``small`` to streaming ``large`` numbers."""
    a = results.values("W4", f"{variant}: iter_search {small:,}", lambda run: run["maxrss_kib"])
    b = results.values("W4", f"{variant}: iter_search {large:,}", lambda run: run["maxrss_kib"])
    return [y - x for x, y in zip(a, b, strict=True)]


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


def _import_ms(results: Results, module: str, setting: str) -> list[float]:
    return results.values("W5", f"{module} ({setting})", lambda run: run["import_us"] / 1000)


def w5_section(results: Results) -> str:
    """W5: import time, as installed and in a minimal environment."""
    rows = []
    for setting, hidden in W5_SETTINGS.items():
        httpx_ms = _import_ms(results, "httpx", setting)
        ours_ms = _import_ms(results, "numbers_async", setting)
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
    runs = len(_import_ms(results, "httpx", "minimal"))
    return f"""## W5: import time (`python -X importtime`, fresh process, {runs} runs each)

`import httpx` also imports httpx's command line (click, pygments, rich) when those happen to be
installed, as they are in this dev environment; the minimal rows hide them, as in a service that
installs only numbers-async.

{table}

Modules of the fast transport loaded by `import numbers_async`: {lazy}.
"""


@dataclass
class Target:
    """One target of the issue: what it asks, what was measured, the ratio, pass or fail
    (None for a reference row, which the issue states as an expectation, not a target)."""

    name: str
    wanted: str
    measured: str
    ratios: list[float]
    passed: bool | None


def _target(
    name: str, wanted: str, measured: str, ratios: list[float], ok: Callable[[float], bool] | None
) -> Target:
    passed = None if ok is None else bool(ratios) and ok(statistics.median(ratios))
    return Target(name, wanted, measured, ratios, passed)


def _versus(results: Results, workload: str, ours: str, theirs: str, unit: str) -> str:
    metric = cpu_us if workload == "W1" else rate
    mine, other = results.values(workload, ours, metric), results.values(workload, theirs, metric)
    return f"{stat(mine)} vs {stat(other)} {unit}"


def targets(results: Results) -> list[Target]:
    """Each target evaluated on the medians of its per-round ratios."""
    r, x = results, TIMES
    found = [
        _target(
            "W1 facade-httpx CPU / search",
            f"<= 1.15{x} generated",
            _versus(r, "W1", "facade-httpx", "generated", "µs"),
            r.ratios("W1", "facade-httpx", cpu_us, "generated"),
            lambda v: v <= 1.15,
        ),
        _target(
            "W1 facade-aiohttp CPU / search",
            f"<= 0.8{x} raw httpx",
            _versus(r, "W1", "facade-aiohttp", BASELINE, "µs"),
            r.ratios("W1", "facade-aiohttp", cpu_us),
            lambda v: v <= 0.8,
        ),
        _target(
            "W2 facade-aiohttp searches/s",
            f">= 2.5{x} raw httpx",
            _versus(r, "W2", "facade-aiohttp", BASELINE, "/s"),
            r.ratios("W2", "facade-aiohttp", rate),
            lambda v: v >= 2.5,
        ),
        _target(
            "W2 facade-aiohttp searches/s",
            f">= 0.85{x} httpx-over-aiohttp",
            _versus(r, "W2", "facade-aiohttp", "httpx-over-aiohttp", "/s"),
            r.ratios("W2", "facade-aiohttp", rate, "httpx-over-aiohttp"),
            lambda v: v >= 0.85,
        ),
        _target(
            "W2 facade-httpx searches/s",
            f">= 0.85{x} raw httpx",
            _versus(r, "W2", "facade-httpx", BASELINE, "/s"),
            r.ratios("W2", "facade-httpx", rate),
            lambda v: v >= 0.85,
        ),
    ]
    pages = -(-r.sizes["w3_limit"] // 50)
    for name, _, width in W3_RUNS:
        one_by_one = width == 1
        found.append(
            _target(
                f"W3 {name}",
                f"about {pages}{x} one request ({pages} pages in a row; reference)"
                if one_by_one
                else f"<= 6{x} one request",
                stat(r.values("W3", name, lambda run: run["large_s"] * 1000)) + " ms",
                r.values("W3", name, lambda run: run["large_s"] / run["single_s"]),
                None if one_by_one else (lambda v: v <= 6),
            )
        )
    small, large = r.sizes["w4_small"], r.sizes["w4_large"]
    allowed = (r.dedup_bytes.get(large, 0) - r.dedup_bytes.get(small, 0)) / 1024 + MEMORY_SLACK_KIB
    for variant in ("facade-httpx", "facade-aiohttp"):
        growth = w4_growth(r, variant, small, large)
        found.append(
            _target(
                f"W4 {variant} iter_search {small:,} to {large:,}",
                f"growth <= de-dup set growth + {MEMORY_SLACK_KIB // 1024} MiB "
                f"= {allowed / 1024:.1f} MiB",
                f"+{stat([g / 1024 for g in growth], '.1f')} MiB",
                [g / allowed for g in growth],
                lambda v: v <= 1.0,
            )
        )
    loads = f"; loads {', '.join(r.lazy_modules)}" if r.lazy_modules else ""
    for setting in W5_SETTINGS:
        httpx_ms = _import_ms(r, "httpx", setting)
        ours_ms = _import_ms(r, "numbers_async", setting)
        found.append(
            _target(
                f"W5 import numbers_async, {setting}",
                f"<= 1.5{x} import httpx, extras not imported",
                f"{stat(ours_ms, '.1f')} vs {stat(httpx_ms, '.1f')} ms{loads}",
                [a / b for a, b in zip(ours_ms, httpx_ms, strict=True)],
                lambda v: v <= 1.5 and not r.lazy_modules,
            )
        )
    return found


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
        "decided on the median (W4: growth / allowance, <= 1 passes).\n\n" + table + "\n"
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
    ]
    return "\n".join(part for part in parts if part)
