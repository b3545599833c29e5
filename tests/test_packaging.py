"""The wheel ships both packages with their py.typed markers and installs cleanly."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import numbers_async

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("numbers_async-*.whl")
    return built


def test_wheel_holds_both_packages_and_markers(wheel: Path) -> None:
    """numbers_async and numbers_api are top-level packages, each with py.typed."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "numbers_async/__init__.py",
        "numbers_async/py.typed",
        "numbers_api/__init__.py",
        "numbers_api/py.typed",
        "numbers_api/api/default/search_available_numbers.py",
        "numbers_api/models/available_number.py",
    ):
        assert required in names
    assert not any(name.startswith(("generated/", "tests/")) for name in names)


def test_wheel_installs_into_a_clean_venv(wheel: Path, tmp_path: Path) -> None:
    """pip install of the wheel gives importable numbers_async and numbers_api."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = subprocess.run(
        [str(python), "-c", "import numbers_async, numbers_api; print(numbers_async.__version__)"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == numbers_async.__version__
