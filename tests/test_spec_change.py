"""Spec change: a field added to the spec reaches users after regeneration alone, with the
facade unchanged (the workflow README's regeneration section describes)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from numbers_async import AvailableNumber

ROOT = Path(__file__).resolve().parent.parent

# Runs with the regenerated numbers_api first on the path, the installed facade unchanged.
SEARCH = """
import asyncio, copy, json, pickle, httpx, numbers_api
from numbers_async import NumbersClient, to_json_dict

def handler(request):
    return httpx.Response(200, json={"numbers": [
        {"phoneNumber": "+14155550100", "monthlyCost": "1.00 USD", "locality": "San Francisco"},
        {"phoneNumber": "+14155550101"},
    ]})

async def main():
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with NumbersClient("sk_test", base_url="http://numbers.test", http_client=http) as client:
        numbers = await client.search("US", limit=2)
    await http.aclose()
    print(json.dumps({
        "numbers_api": numbers_api.__file__,
        "monthly_cost": [str(n.monthly_cost) if n.monthly_cost else None for n in numbers],
        "extra": [n.additional_properties for n in numbers],
        "round_trip": numbers[0].to_dict(),
        "json": [to_json_dict(pickle.loads(pickle.dumps(n))) for n in numbers],
        "equal_after_copies": [n == copy.deepcopy(n) == pickle.loads(pickle.dumps(n))
                               for n in numbers],
        "absent_repr": repr(numbers[1].monthly_cost),
    }))

asyncio.run(main())
"""


def test_a_field_added_to_the_spec_reaches_users_after_regeneration(tmp_path: Path) -> None:
    """monthlyCost added to AvailableNumber, regenerated: the unchanged facade exposes it."""
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    spec["components"]["schemas"]["AvailableNumber"]["properties"]["monthlyCost"] = {
        "type": "string",
        "description": "Monthly price, e.g. 1.00 USD",
    }
    changed = tmp_path / "openapi.yaml"
    changed.write_text(yaml.safe_dump(spec, sort_keys=False))
    subprocess.run(
        ["scripts/generate.sh", str(tmp_path / "numbers_api")],
        cwd=ROOT,
        env={**os.environ, "SPEC": str(changed)},
        check=True,
        timeout=30,
    )
    model = (tmp_path / "numbers_api" / "models" / "available_number.py").read_text()
    assert "monthly_cost: str | Unset = UNSET" in model

    result = subprocess.run(
        [sys.executable, "-c", SEARCH],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert Path(seen["numbers_api"]).is_relative_to(tmp_path)  # the regenerated package ran
    assert seen["monthly_cost"] == ["1.00 USD", None]  # the second left it out: UNSET
    assert seen["extra"] == [{}, {}]  # now a field, no longer an unknown extra
    assert seen["round_trip"]["monthlyCost"] == "1.00 USD"
    # the new field, absent, behaves like every absent field: left out, equal, shown as UNSET
    assert seen["json"] == [
        {"phoneNumber": "+14155550100", "locality": "San Francisco", "monthlyCost": "1.00 USD"},
        {"phoneNumber": "+14155550101"},
    ]
    assert seen["equal_after_copies"] == [True, True]
    assert seen["absent_repr"] == "UNSET"


def test_before_regeneration_the_new_field_is_kept_as_an_unknown_extra() -> None:
    """The committed model does not know monthlyCost; it keeps it among additional properties."""
    number = AvailableNumber.from_dict({"phoneNumber": "+14155550100", "monthlyCost": "1.00 USD"})
    assert not hasattr(number, "monthly_cost")
    assert number.additional_properties == {"monthlyCost": "1.00 USD"}
