"""Instructions per search under callgrind: a figure the machine's load does not move.

``python -m benchmarks.instructions facade-httpx2 [--n 100]`` starts the loopback server and
runs W1's job (``sequential``, the same warm-up each time) twice in a fresh process under
``valgrind --tool=callgrind``: with no timed search and with ``n``; it prints the difference
per search. On this project's 2-core VM the same W1 job's CPU time varies by ±20 % between
rounds, while this count repeats to 0.2 %: use it to choose between two versions of a hot path,
and ``make bench`` for the figures users see. Needs valgrind (not run by ``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

from benchmarks.run import ROOT, VARIANTS, Server

WARM_UP = 20  # searches before the counted ones, in both runs
_COLLECTED = re.compile(r"Collected : (\d+)")


def collected(valgrind_output: str) -> int:
    """The instructions callgrind's summary reports (its "Collected" line)."""
    found = _COLLECTED.search(valgrind_output)
    if found is None:
        raise RuntimeError(f"no callgrind summary in valgrind's output:\n{valgrind_output}")
    return int(found.group(1))


def per_search(without: int, with_n: int, n: int) -> float:
    """Instructions per search from a run of ``n`` searches and one of none."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return (with_n - without) / n


def count(base_url: str, variant: str, n: int, concurrency: int | None = None) -> int:
    """Instructions of one fresh client process running ``n`` searches after the warm-up.

    With ``concurrency``, W2's job (``n`` searches by that many tasks) instead of W1's.
    """
    job: dict[str, object] = {"base_url": base_url, "variant": variant, "label": variant, "n": n}
    if concurrency is None:
        job.update(workload="sequential", warmup=WARM_UP)
    else:
        job.update(workload="concurrent", concurrency=concurrency)
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks.client",
            json.dumps([job]),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return collected(done.stderr)


def main() -> None:
    """Parse arguments, count both runs, print instructions per search."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--n", type=int, default=100, help="searches counted (default 100)")
    parser.add_argument(
        "--concurrency", type=int, help="run W2's job with this many tasks instead of W1's"
    )
    args = parser.parse_args()
    server = Server(None)
    try:
        without = count(server.base_url, args.variant, 0, args.concurrency)
        with_n = count(server.base_url, args.variant, args.n, args.concurrency)
    finally:
        server.close()
    figure = per_search(without, with_n, args.n)
    shape = "" if args.concurrency is None else f", {args.concurrency} in flight"
    print(f"{args.variant}: {figure / 1e6:.3f} M instructions per search (n={args.n}{shape})")


if __name__ == "__main__":
    main()
