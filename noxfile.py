"""``make test-matrix``: the test suite on every Python version the package says it supports.

The versions are the ``Programming Language :: Python :: 3.X`` classifiers in pyproject.toml.
Each interpreter is looked for under pyenv (``$PYENV_ROOT/versions/3.12.*``, the newest patch
release), then on PATH (``python3.12``); a version found in neither fails the run, it is never
skipped.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d+)$")

nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests"]


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def supported_pythons() -> list[str]:
    """The ``3.X`` versions named by pyproject.toml's classifiers, oldest first."""
    found = [m[1] for c in PROJECT["classifiers"] if (m := CLASSIFIER.match(c))]
    return sorted(found, key=lambda version: tuple(map(int, version.split("."))))


def installed_extras() -> str:
    """Every extra but ``bench`` (``make bench`` installs it): what ``make venv`` installs."""
    return ",".join(sorted(set(PROJECT["optional-dependencies"]) - {"bench"}))


def pyenv_bins(versions: list[str]) -> list[str]:
    """The bin folder of pyenv's newest patch release of each version installed."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    bins = []
    for version in versions:
        releases = [p for p in root.glob(f"{version}.*") if re.fullmatch(r"[\d.]+", p.name)]
        if releases:
            newest = max(releases, key=lambda p: tuple(map(int, p.name.split("."))))
            bins.append(str(newest / "bin"))
    return bins


PYTHONS = supported_pythons()
# pyenv's shims answer only for the versions selected (`pyenv global`), so the interpreters
# themselves go first on PATH, where nox looks for python3.X.
os.environ["PATH"] = os.pathsep.join([*pyenv_bins(PYTHONS), os.environ.get("PATH", "")])


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit, contract and command-line tests (all but `slow`) on one Python version."""
    session.install("--quiet", "-e", f".[{installed_extras()}]")
    session.run("python", "--version")  # the interpreter found, for the log
    session.run(
        "pytest",
        "-m",
        "not slow",
        "-n",
        "2",
        "--dist",
        "worksteal",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )
