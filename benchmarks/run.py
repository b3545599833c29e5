"""The bench harness: starts the loopback server, runs each job in a fresh process, writes a report.

Variants are interleaved: every round runs each variant once per workload, in an order rotated
from round to round, and every ratio is taken against a baseline measured in the same round, so
a machine that slows down mid-run moves both sides of a ratio. With two or more CPUs the server
is pinned to the first and every client process to the second (one core each, as in a service
talking to a remote API); ``--no-pin`` leaves placement to the scheduler.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.results import (
    W3_RUNS,
    W5_SETTINGS,
    W6_ARRIVAL_PER_S,
    W6_ARRIVING,
    W6_FROZEN,
    W6_LIMIT,
    W6_STALL_MS,
    W6_VARIANTS,
    Results,
    w4_runs,
)

ROOT = Path(__file__).resolve().parent.parent

VARIANTS = (
    "raw-httpx",
    "raw-aiohttp",
    "generated",
    "facade-httpx",
    "facade-aiohttp",
    "httpx-over-aiohttp",
    "raw-httpx2",
    "facade-httpx2",
)


@dataclass(frozen=True)
class Sizes:
    """How much each workload does; ``QUICK`` is for the smoke test."""

    rounds: int = 3
    w1_searches: int = 2000
    w2_searches: int = 5000
    w2_concurrency: int = 64
    w3_limit: int = 1000
    w3_latency_ms: int = 50
    w3_reps: int = 3
    w4_small: int = 2000
    w4_large: int = 20000
    w5_runs: int = 7
    w6_searches: int = 5000
    w6_latency_ms: int = 100
    ceiling_searches: int = 10000
    ceiling_concurrency: int = 256


QUICK = Sizes(
    rounds=1,
    w1_searches=10,
    w2_searches=32,
    w2_concurrency=8,
    w3_limit=120,
    w3_latency_ms=1,
    w3_reps=1,
    w4_small=100,
    w4_large=200,
    w5_runs=1,
    w6_searches=20,
    w6_latency_ms=1,
    ceiling_searches=32,
    ceiling_concurrency=16,
)


class Server:
    """The loopback server process (``benchmarks.server``), pinned to ``cpu`` if given."""

    def __init__(self, cpu: int | None) -> None:
        command = [sys.executable, "-m", "benchmarks.server"]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def close(self) -> None:
        """Stop the server: closing its stdin ends it; SIGTERM if it lingers."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)


def run_jobs(jobs: list[dict[str, Any]], timeout: float = 300) -> list[dict[str, float]]:
    """Run ``jobs`` one after another in a fresh ``benchmarks.client`` process; their results."""
    progress(", ".join(job["label"] for job in jobs))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.client", json.dumps(jobs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"jobs {jobs} failed ({done.returncode}):\n{done.stderr}")
    results: list[dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def import_time_us(module: str, hidden: tuple[str, ...] = ()) -> float:
    """Cumulative import time of ``module`` in a fresh interpreter (``-X importtime``), in µs,
    with the ``hidden`` packages made unimportable (as if not installed)."""
    code = f"import {module}"
    if hidden:
        code = f"import sys; sys.modules.update(dict.fromkeys({hidden!r})); {code}"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for line in reversed(done.stderr.splitlines()):
        match = re.match(r"import time:\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\S+)\s*$", line)
        if match and match.group(3) == module:
            return float(match.group(2))
    raise RuntimeError(f"no import time for {module} in:\n{done.stderr[-2000:]}")


def modules_loaded_by(statement: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` are in sys.modules after ``statement`` in a fresh interpreter."""
    code = (
        f"{statement}\nimport sys\nprint(' '.join(m for m in {candidates!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def dedup_set_bytes(n: int) -> int:
    """Memory of a set of ``n`` distinct phone numbers shaped like the server's."""
    numbers = {f"+1{i:011d}" for i in range(n)}
    return sys.getsizeof(numbers) + sum(sys.getsizeof(number) for number in numbers)


def progress(message: str) -> None:
    """A line on stderr, so a long run shows where it is."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rotated(variants: tuple[str, ...], round_no: int) -> tuple[str, ...]:
    """``variants`` in the order of round ``round_no``: shifted by one more each round."""
    shift = round_no % len(variants)
    return variants[shift:] + variants[:shift]


def plan(sizes: Sizes, base_url: str, cpu: int | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(workload, row name, job) of every client process, in the order they run."""
    common: dict[str, Any] = {"base_url": base_url, "cpu": cpu}
    slow = f"{base_url}/delay-ms/{sizes.w3_latency_ms}"
    crowd = f"{base_url}/delay-ms/{sizes.w6_latency_ms}"
    ceiling = {"n": sizes.ceiling_searches, "concurrency": sizes.ceiling_concurrency}
    jobs = [("ceiling", "raw-aiohttp", {**common, "workload": "concurrent", **ceiling})]
    for round_no in range(sizes.rounds):
        order = rotated(VARIANTS, round_no)
        w1: dict[str, Any] = {"workload": "sequential", "n": sizes.w1_searches}
        jobs += [("W1", variant, {**common, **w1}) for variant in order]
        w2: dict[str, Any] = {
            "workload": "concurrent",
            "n": sizes.w2_searches,
            "concurrency": sizes.w2_concurrency,
        }
        jobs += [("W2", variant, {**common, **w2}) for variant in order]
        w3: dict[str, Any] = {
            "workload": "large",
            "base_url": slow,
            "limit": sizes.w3_limit,
            "reps": sizes.w3_reps,
        }
        for name, variant, width in W3_RUNS:
            jobs.append(
                ("W3", name, {**common, **w3, "variant": variant, "page_concurrency": width})
            )
        for name, variant, mode, n in w4_runs(sizes.w4_small, sizes.w4_large):
            w4: dict[str, Any] = {"workload": "memory", "variant": variant, "mode": mode, "n": n}
            jobs.append(("W4", name, {**common, **w4}))
        w6: dict[str, Any] = {
            "workload": "crowd",
            "base_url": crowd,
            "n": sizes.w6_searches,
            "limit": W6_LIMIT,
            "stall_ms": W6_STALL_MS,
        }
        reference = {
            W6_FROZEN: {"variant": "facade-httpx", "freeze": True},
            W6_ARRIVING: {"variant": "facade-httpx", "arrive_per_s": W6_ARRIVAL_PER_S},
        }
        jobs += [
            ("W6", variant, {**common, **w6, **reference.get(variant, {})})
            for variant in rotated(W6_VARIANTS, round_no)
        ]
    for workload, name, job in jobs:
        job.setdefault("variant", name)
        job["label"] = f"{workload} {name}"
    return jobs


def measure(sizes: Sizes, pin: bool, one_process: bool) -> Results:
    """Run every workload, each job in its own process unless ``one_process``; the results."""
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if pin and len(cpus) >= 2 else (None, None)
    results = Results(sizes=sizes.__dict__, pinned=server_cpu is not None)
    results.load_before = os.getloadavg()
    server = Server(server_cpu)
    try:
        jobs = plan(sizes, server.base_url, client_cpu)
        progress(f"{len(jobs)} client jobs, {sizes.rounds} round(s), W1 to W4 and W6")
        batches = [[job for _, _, job in jobs]] if one_process else [[job] for _, _, job in jobs]
        outputs = [output for batch in batches for output in run_jobs(batch)]
        for (workload, name, _), output in zip(jobs, outputs, strict=True):
            if workload == "ceiling":
                results.ceiling = output
            else:
                results.add(workload, name, output)
    finally:
        server.close()
    progress(f"W5: import times, {sizes.w5_runs} fresh processes each")
    for module in ("httpx", "numbers_async"):
        import_time_us(module)  # warm-up: byte-compiles, fills the OS cache
    for _ in range(sizes.w5_runs):
        for setting, hidden in W5_SETTINGS.items():
            for module in ("httpx", "numbers_async"):
                result = {"import_us": import_time_us(module, hidden)}
                results.add("W5", f"{module} ({setting})", result)
    results.lazy_modules = modules_loaded_by(
        "import numbers_async",
        ("aiohttp", "httpx_aiohttp", "numbers_async._aiohttp", "httpx2", "numbers_async._httpx2"),
    )
    results.dedup_bytes = {n: dedup_set_bytes(n) for n in (sizes.w4_small, sizes.w4_large)}
    results.load_after = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, measure, write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (>= 1)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and clients")
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="run all client jobs in one process (smoke test only: figures are not comparable)",
    )
    parser.add_argument("--command", default=None, help="how this run was started, for the report")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.rounds is not None:
        sizes = Sizes(**{**sizes.__dict__, "rounds": max(1, args.rounds)})
    started = time.perf_counter()
    results = measure(sizes, pin=not args.no_pin, one_process=args.one_process)
    results.duration_s = time.perf_counter() - started
    command = args.command or "python -m benchmarks " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    args.output.write_text(report.render(results, command.strip()), encoding="utf-8")
    progress(f"wrote {args.output} in {results.duration_s:.0f} s")
