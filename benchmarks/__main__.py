"""``python -m benchmarks``: run every workload and write BENCHMARKS.md."""

from benchmarks.run import main

main()
