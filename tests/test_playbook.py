"""The regeneration playbook (README, "When the spec changes"), run on a copy of the repository:
three spec edits an API team makes, `scripts/generate.sh` with the pinned generator, and the
drift test asking for the one handwritten line a new query parameter needs, then users of the
library, the sandbox and the CLI get all three."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("numbers_async", "spec", "scripts", "tests", "pyproject.toml")
EXPOSE_LINE = "    number_type: str | None  # local, mobile or toll_free\n"

# Runs in the copy: what a user of the library, the sandbox and the CLI sees.
USERS = """
import asyncio, io, json, httpx, numbers_async
from numbers_async import NumbersClient
from numbers_async.cli._formats import make_writer
from numbers_async.sandbox import create_app, sandbox_client

sent = []

def handler(request):
    sent.append(request.url.params)
    size = int(request.url.params["limit"])
    start = len(sent) * 1000
    return httpx.Response(200, json={"numbers": [
        {"phoneNumber": f"+1415{start + i:07d}", "monthlyCost": "2.00 USD"} for i in range(size)
    ]})

async def main():
    out = {"numbers_async": numbers_async.__file__}
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with NumbersClient("k", base_url="http://numbers.test", http_client=http) as client:
        numbers = await client.search("US", limit=250, number_type="mobile")
    await http.aclose()
    out["found"] = len(numbers)
    out["monthly_cost"] = numbers[0].monthly_cost
    out["limits"] = sorted(int(params["limit"]) for params in sent)
    out["number_type"] = sorted({params["numberType"] for params in sent})
    cli_json = io.StringIO()
    writer = make_writer("json", cli_json)
    writer.add(numbers[0])
    writer.finish()
    out["cli_json"] = json.loads(cli_json.getvalue())[0]
    app = create_app(seed=2)
    async with sandbox_client(app) as client:
        found = await client.search("US", limit=100, number_type="mobile")
    out["sandbox"] = [len(found), found[0].monthly_cost]
    out["sandbox_requests"] = [(r.params, r.status) for r in app.requests]
    print(json.dumps(out))

asyncio.run(main())
"""


def edit_spec(path: Path) -> None:
    """The three edits: a new optional response field, a new optional query parameter, and
    limit's maximum raised from 50 to 100."""
    spec = yaml.safe_load(path.read_text())
    operation = spec["paths"]["/numbers/available"]["get"]
    operation["parameters"].append(
        {
            "name": "numberType",
            "in": "query",
            "required": False,
            "description": "Only numbers of this type",
            "schema": {"type": "string", "enum": ["local", "mobile", "toll_free"]},
        }
    )
    (limit,) = [p for p in operation["parameters"] if p["name"] == "limit"]
    limit["schema"]["maximum"] = 100
    limit["description"] = "Max results (default 10, max 100)"
    spec["components"]["schemas"]["AvailableNumber"]["properties"]["monthlyCost"] = {
        "type": "string",
        "description": "Monthly price",
        "example": "1.00 USD",
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``args`` in the copy, its own numbers_async and regenerated numbers_api first."""
    env = {
        **os.environ,
        "PYTHONPATH": f"{copy}{os.pathsep}{copy / 'generated'}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    return subprocess.run(
        args, cwd=copy, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def drift_test(copy: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """tests/test_drift.py in the copy, with only the plugins it needs (a faster start)."""
    plugins = ("-p", "pytest_asyncio.plugin", "-p", "pytest_timeout", "-p", "no:cacheprovider")
    return run(
        copy, sys.executable, "-m", "pytest", "-q", *plugins, "tests/test_drift.py", *options
    )


@pytest.mark.slow
def test_three_spec_edits_reach_users_with_one_handwritten_line(tmp_path: Path) -> None:
    """A new field reaches number.<field> and the CLI's json; a new parameter is refused by the
    drift test until one line exposes it, then is sent on the wire and accepted by the sandbox;
    the facade pages by 100 and the sandbox accepts 100."""
    copy = tmp_path / "repo"
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")  # the pinned generator and ruff
    edit_spec(copy / "spec" / "openapi.yaml")

    generated = run(copy, "scripts/generate.sh")
    assert generated.returncode == 0, generated.stderr

    before = drift_test(copy)
    assert before.returncode != 0
    assert "['number_type']" in before.stdout
    assert "numbers_async/_filters.py" in before.stdout
    assert "1 failed" in before.stdout  # only the parameter: field and maximum needed nothing

    filters = copy / "numbers_async" / "_filters.py"
    filters.write_text(filters.read_text() + EXPOSE_LINE)  # the one handwritten line
    after = drift_test(copy, "-k", "every_parameter")
    assert after.returncode == 0, after.stdout

    users = run(copy, sys.executable, "-c", USERS)
    assert users.returncode == 0, users.stderr
    seen = json.loads(users.stdout)
    assert Path(seen["numbers_async"]).is_relative_to(copy)
    assert seen["found"] == 250
    assert seen["limits"] == [100, 100, 100]  # full pages of the new maximum
    assert seen["number_type"] == ["mobile"]  # sent on every page
    assert seen["monthly_cost"] == "2.00 USD"
    assert list(seen["cli_json"]) == ["phoneNumber", "monthlyCost"]
    assert seen["sandbox"] == [100, "1.00 USD"]  # one page of 100; the field's example
    ((params, status),) = seen["sandbox_requests"]
    assert (params["limit"], params["numberType"], status) == ("100", "mobile", 200)
