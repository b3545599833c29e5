"""Smoke test of `make bench`: the harness runs end to end on tiny sizes; no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import outage_memory
from benchmarks.instructions import collected, per_search
from benchmarks.results import W6_VARIANTS
from benchmarks.run import VARIANTS

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("## Targets", "## Server ceiling", "## W1", "## W2", "## W3", "## W4", "## W5", "## W6")


@pytest.mark.slow
@pytest.mark.timeout(150)  # the harness's own subprocess timeout is 120 s
def test_bench_harness_writes_every_table(tmp_path: Path) -> None:
    """`python -m benchmarks --quick` writes every workload's table, each variant, the targets."""
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--one-process", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = output.read_text(encoding="utf-8")
    assert [section for section in SECTIONS if section not in report] == []
    names = {*VARIANTS, *W6_VARIANTS}
    assert [name for name in sorted(names) if f"| `{name}` |" not in report] == []
    verdicts = ("| pass |", "| **FAIL** |", "| reference |")
    assert sum(report.count(verdict) for verdict in verdicts) == 26  # targets.py rows


def test_the_instruction_count_is_read_from_callgrinds_summary() -> None:
    """`python -m benchmarks.instructions` reads valgrind's summary line and refuses output
    without one (valgrind itself is not needed here)."""
    output = "==4242== Events    : Ir\n==4242== Collected : 3116178042\n==4242==\n"
    assert collected(output) == 3116178042
    with pytest.raises(RuntimeError, match="no callgrind summary"):
        collected("valgrind: command not found\n")
    assert per_search(1_000_000, 333_000_000, 100) == 3_320_000
    with pytest.raises(ValueError, match="n must be at least 1"):
        per_search(1, 2, 0)


async def test_the_outage_memory_script_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m benchmarks.outage_memory`, on tiny sizes: its line for a transport."""
    monkeypatch.setattr(outage_memory, "SEARCHES", 30)
    monkeypatch.setattr(outage_memory, "AT_ONCE", 10)
    line = await outage_memory.measure("httpx")
    assert line.startswith("httpx: 30 failed searches, 10 at a time: peak ")
    assert line.endswith(" objects in cycles)")
