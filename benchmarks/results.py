"""The results of a bench run: what each workload runs, the metrics of a run, their summaries.

A ``Results`` holds every job's raw figures; the metric functions turn one run into a number,
``stat`` and ``ratio`` summarise a row over rounds as ``median (min-max)`` text.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "raw-httpx"
TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"

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

# W6: each facade engine; raw aiohttp (a default ClientSession) and asyncio's floor (no client,
# no I/O) as reference rows.
W6_ENGINES = ("facade-httpx", "facade-httpx2", "facade-aiohttp")
# The default engine in a service that froze its start-up heap (gc.freeze() after the warm-up):
# a reference row, for the README's advice on the garbage collector's pauses.
W6_FROZEN = "facade-httpx, start-up heap frozen"
# The default engine with the searches arriving W6_ARRIVAL_PER_S a second, in a batch every
# 10 ms, instead of in one gather: as a service's requests arrive (a reference row).
W6_ARRIVAL_PER_S = 2500
W6_ARRIVING = f"facade-httpx, arriving {W6_ARRIVAL_PER_S:,}/s"
W6_VARIANTS = (*W6_ENGINES, W6_FROZEN, W6_ARRIVING, "raw-aiohttp", "asyncio-floor")
W6_LIMIT = 5  # numbers each W6 search asks for
W6_STALL_MS = 100.0  # issue 10: no event-loop stall longer than this; W6 counts the longer ones


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


def git_commit() -> str:
    """The short commit of the checkout, marked when the measured code has uncommitted changes."""
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


def w4_growth(results: Results, variant: str, small: int, large: int) -> list[float]:
    """Per-round peak-RSS growth (KiB) from streaming ``small`` to streaming ``large`` numbers."""
    a = results.values("W4", f"{variant}: iter_search {small:,}", lambda run: run["maxrss_kib"])
    b = results.values("W4", f"{variant}: iter_search {large:,}", lambda run: run["maxrss_kib"])
    return [y - x for x, y in zip(a, b, strict=True)]


def import_ms(results: Results, module: str, setting: str) -> list[float]:
    """Cumulative import time (ms) of ``module`` in each W5 run of ``setting``."""
    return results.values("W5", f"{module} ({setting})", lambda run: run["import_us"] / 1000)
