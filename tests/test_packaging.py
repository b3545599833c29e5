"""The wheel ships both packages with their py.typed markers and installs cleanly."""

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import numbers_async

ROOT = Path(__file__).resolve().parent.parent
# Tests stay off the network: pip installs the wheel alone, its dependencies come from this venv.
OFFLINE = ["--no-deps", "--no-index", "--disable-pip-version-check"]
# Building the wheel and a venv takes seconds; the subprocess timeouts below bound each step.
pytestmark = pytest.mark.timeout(300)
IMPORT_CHECK = """
import numbers_api, numbers_async
print(numbers_async.__version__, numbers_async.__file__, numbers_api.__file__, sep="\\n")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=90,
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


@pytest.mark.slow
def test_wheel_installs_into_a_clean_venv(wheel: Path, tmp_path: Path) -> None:
    """The wheel, installed into a fresh venv, gives importable numbers_async and numbers_api."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *OFFLINE, str(wheel)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    result = subprocess.run(
        [str(python), "-c", IMPORT_CHECK],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sorted(dependencies))},
    )
    version, *files = result.stdout.splitlines()
    assert version == numbers_async.__version__
    assert len(files) == 2
    for file in files:  # from the wheel just installed, not from the repository
        assert Path(file).resolve().is_relative_to(venv.resolve()), file


def test_the_supported_versions_agree_everywhere() -> None:
    """The classifiers name the versions `make test-matrix` runs (noxfile.py reads them); the
    oldest is requires-python's floor and the version ruff and mypy check against."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    prefix = "Programming Language :: Python :: 3."
    minors = sorted(
        int(c.removeprefix(prefix))
        for c in pyproject["project"]["classifiers"]
        if c.startswith(prefix) and c.removeprefix(prefix).isdigit()
    )
    assert minors == list(range(11, 14))  # 3.11, 3.12, 3.13: each one tested
    oldest = f"3.{minors[0]}"
    assert pyproject["project"]["requires-python"] == f">={oldest}"
    assert pyproject["tool"]["mypy"]["python_version"] == oldest
    assert pyproject["tool"]["ruff"]["target-version"] == f"py3{minors[0]}"
    assert sys.version_info[:2] in {(3, minor) for minor in minors}


def test_the_matrix_installs_what_make_venv_installs() -> None:
    """`make test-matrix` installs every extra but bench, exactly the extras of `make venv`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = re.findall(r"pip install --quiet -e '\.\[([a-z0-9,]+)\]'", makefile)
    (installed,) = [extras for extras in installs if extras != "bench"]  # make bench's own
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert sorted(installed.split(",")) == sorted(set(extras) - {"bench"})
