"""spec/openapi.yaml: valid OpenAPI 3.1 and guarded by check-generated, including the facts the
generator drops (numbers_api/spec_facts.py). What the code copies from the spec is guarded by
tests/test_drift.py, each failure naming the file to update, not by a snapshot of the spec."""

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "spec" / "openapi.yaml"


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


def test_spec_is_valid_openapi_31() -> None:
    """The spec loads and passes openapi-spec-validator."""
    spec = load_spec()
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_our_readings_are_marked_as_ours() -> None:
    """What the reference does not state (bearer auth, the area code pattern) is flagged."""
    assert "Our reading" in load_spec()["info"]["description"]


@pytest.mark.slow  # a maintainer's workflow: runs the generator (4-8 s)
def test_check_generated_fails_on_a_spec_change_nobody_regenerated(tmp_path: Path) -> None:
    """Editing one description without regenerating makes check-generated fail, naming files."""
    changed = tmp_path / "openapi.yaml"
    changed.write_text(
        SPEC_PATH.read_text().replace(
            "Actionable hint for fixing the error.", "A hint for fixing the error."
        )
    )
    result = check_generated(changed)
    assert result.returncode != 0
    assert "models/error_detail.py" in result.stdout
    assert "is stale" in result.stdout


@pytest.mark.slow  # a maintainer's workflow: runs the generator (4-8 s)
def test_check_generated_sees_what_the_generator_drops(tmp_path: Path) -> None:
    """A new limit maximum changes no generated model, only spec_facts.py: check-generated
    still fails, naming it (the pinned generator alone would not notice)."""
    changed = tmp_path / "openapi.yaml"
    changed.write_text(SPEC_PATH.read_text().replace("maximum: 50", "maximum: 100"))
    result = check_generated(changed)
    assert result.returncode != 0
    assert "spec_facts.py" in result.stdout
    assert "models/" not in result.stdout


@pytest.mark.slow  # a maintainer's workflow: runs the generator (4-8 s)
def test_a_spec_that_cannot_be_generated_fails_the_check_and_keeps_the_package(
    tmp_path: Path,
) -> None:
    """A spec the generator takes and spec_facts.py refuses (a second operation), so generation
    fails after the models were written: check-generated fails (it said "up to date", status
    0) and generate.sh leaves its output folder as it was (it was left half rewritten)."""
    spec = load_spec()
    spec["paths"]["/numbers/reserved"] = {
        "get": {**spec["paths"]["/numbers/available"]["get"], "operationId": "listReserved"}
    }
    refused = tmp_path / "openapi.yaml"
    refused.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = check_generated(refused)
    assert result.returncode != 0
    assert "up to date" not in result.stdout
    assert "generating from" in result.stdout
    out = tmp_path / "numbers_api"
    out.mkdir()
    (out / "spec_facts.py").write_text("KEPT = True\n")  # a package generate.sh may replace
    generated = subprocess.run(
        ["scripts/generate.sh", str(out)],
        cwd=ROOT,
        env={**os.environ, "SPEC": str(refused)},
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert generated.returncode != 0
    assert "spec_facts.py" in generated.stderr  # the generator ran; spec_facts.py refused it
    assert [path.name for path in out.iterdir()] == ["spec_facts.py"]
    assert (out / "spec_facts.py").read_text() == "KEPT = True\n"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_generate_replaces_only_a_generated_package(tmp_path: Path) -> None:
    """generate.sh replaces its output folder whole: one holding files and no spec_facts.py (a
    folder named by mistake, or a path split at a space) is refused, untouched."""
    (tmp_path / "notes.txt").write_text("mine\n")
    result = subprocess.run(
        ["scripts/generate.sh", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert result.returncode != 0
    assert "not replacing it" in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def check_generated(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "check-generated"],
        cwd=ROOT,
        env={**os.environ, "SPEC": str(spec)},
        capture_output=True,
        text=True,
        timeout=45,
    )
