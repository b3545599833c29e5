"""Profile one variant on W1, W2 or W6 with pyinstrument: where a missed target's time goes.

``python -m benchmarks.profile W2 facade-aiohttp [--n 5000]`` starts the loopback server, runs
the job in a fresh process as ``make bench`` does, and prints the profile of its timed section
(needs pyinstrument, from the ``bench`` extra that ``make bench`` installs; not run by it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from benchmarks.results import W6_LIMIT, W6_STALL_MS
from benchmarks.run import VARIANTS, Server, Sizes, run_jobs


def main() -> None:
    """Parse arguments, run the profiled job, print the profile."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("workload", choices=("W1", "W2", "W6"))
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--n", type=int, default=None, help="searches (default: as in make bench)")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args()
    sizes = Sizes()
    cpus = sorted(os.sched_getaffinity(0))
    pinned = len(cpus) >= 2
    server = Server(cpus[0] if pinned else None)
    try:
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "profile.txt"
            job = {
                "base_url": server.base_url,
                "cpu": cpus[1] if pinned else None,
                "variant": args.variant,
                "label": f"{args.workload} {args.variant} (profiled)",
                "profile": str(output),
                "profile_all": args.all,
            }
            if args.workload == "W1":
                job |= {"workload": "sequential", "n": args.n or sizes.w1_searches}
            elif args.workload == "W6":
                job |= {"workload": "crowd", "n": args.n or sizes.w6_searches}
                job |= {"limit": W6_LIMIT, "stall_ms": W6_STALL_MS}
                job["base_url"] += f"/delay-ms/{sizes.w6_latency_ms}"
            else:
                job |= {"workload": "concurrent", "n": args.n or sizes.w2_searches}
                job["concurrency"] = sizes.w2_concurrency
            (result,) = run_jobs([job])
            print(output.read_text(encoding="utf-8"))
            per_search = result["cpu_s"] / result["n"] * 1e6
            print(f"CPU µs / search (profiled, so inflated): {per_search:.0f}")
    finally:
        server.close()


if __name__ == "__main__":
    main()
