"""Spec change: a field added to the spec reaches users after regeneration alone, with the
facade unchanged (the workflow README's regeneration section describes)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
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


@pytest.mark.slow
def test_a_field_added_to_the_spec_reaches_users_after_regeneration(tmp_path: Path) -> None:
    """monthlyCost added to AvailableNumber, regenerated: the unchanged facade exposes it."""
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    spec["components"]["schemas"]["AvailableNumber"]["properties"]["monthlyCost"] = {
        "type": "string",
        "description": "Monthly price, e.g. 1.00 USD",
    }
    regenerate(spec, tmp_path)
    model = (tmp_path / "numbers_api" / "models" / "available_number.py").read_text()
    assert "monthly_cost: str | Unset = UNSET" in model

    seen = run_regenerated(SEARCH, tmp_path)
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


# Runs against a copy regenerated with phoneNumberType an enum, locality required and the key
# in an X-API-Key header; the facade, sandbox and CLI code are the installed, unchanged ones.
CHANGED_CONTRACT = """
import asyncio, json, traceback, httpx, numbers_api
from numbers_api import spec_facts
from numbers_async import NumbersClient, ResponseValidationError, AuthenticationError
from numbers_async.sandbox import create_app, sandbox_client
from numbers_async._compiled_build import BUILD

KEY = "sk_live_masked_9f8e7d"
BODIES = {
    "new-enum-value": [{"phoneNumber": "+14155550100", "locality": "SF",
                        "phoneNumberType": "satellite"}],
    "no-locality": [{"phoneNumber": "+14155550101"}],
}
sent = []

def handler(request):
    sent.append(request)
    case = request.url.params["case"]
    if case == "unauthorized":
        return httpx.Response(401)
    return httpx.Response(200, json={"numbers": BODIES[case]})

def shown(error):
    text = ["".join(traceback.format_exception(error)), str(error), repr(error), repr(vars(error))]
    response = error.response
    text += [repr(response.request.headers), str(response.request.headers)]
    return "".join(text)

async def main():
    out = {"auth_header": spec_facts.AUTH_HEADER, "one_pass_builder": BUILD is not None}
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with NumbersClient(KEY, base_url="http://numbers.test", http_client=http) as client:
        (number,) = await client.search("US", limit=1, extra_query={"case": "new-enum-value"})
        out["type"] = [type(number.phone_number_type).__name__, str(number.phone_number_type)]
        try:
            await client.search("US", limit=1, extra_query={"case": "no-locality"})
        except ResponseValidationError as error:
            out["no_locality"] = error.problem
        try:
            await client.search("US", limit=1, extra_query={"case": "unauthorized"})
        except AuthenticationError as error:
            out["key_shown"] = KEY in shown(error)
    await http.aclose()
    out["headers"] = [dict(r.headers) for r in sent][:1]
    app = create_app(api_key=KEY)
    async with sandbox_client(app) as client:
        # local numbers: the sandbox has no locality for toll-free ones, now required
        out["sandbox_found"] = len(await client.search("US", area_code="415", limit=3))
    async with sandbox_client(app, api_key="wrong") as client:
        try:
            await client.search("US")
        except AuthenticationError as error:
            out["sandbox_refused_wrong_key"] = error.status_code
            out["key_shown"] = out["key_shown"] or KEY in shown(error)
    print(json.dumps(out))

asyncio.run(main())
"""


@pytest.mark.slow
def test_enum_required_field_and_api_key_header_follow_a_regenerated_spec(tmp_path: Path) -> None:
    """On a copy of the spec: an enum added to phoneNumberType and a server sending a value
    outside it → the search succeeds with that value; locality made required and a server
    omitting it → ResponseValidationError; an X-API-Key security scheme → client and sandbox
    use that header after make generate alone, and the key is masked in every repr and error."""
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    number = spec["components"]["schemas"]["AvailableNumber"]
    number["properties"]["phoneNumberType"]["enum"] = ["local", "toll_free", "mobile"]
    number["required"] = ["phoneNumber", "locality"]
    spec["security"] = [{"apiKeyHeader": []}]
    spec["components"]["securitySchemes"] = {
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    }
    regenerate(spec, tmp_path)

    seen = run_regenerated(CHANGED_CONTRACT, tmp_path)
    assert seen["auth_header"] == "X-API-Key"  # the regenerated facts ran
    assert seen["type"] == ["AvailableNumberPhoneNumberType", "satellite"]  # open enum
    assert seen["one_pass_builder"] is False  # the enum is converted: pages go via from_dict
    assert "'locality' is missing" in seen["no_locality"]
    (headers,) = seen["headers"]
    assert headers["x-api-key"] == "sk_live_masked_9f8e7d"
    assert "authorization" not in headers
    assert seen["sandbox_found"] == 3
    assert seen["sandbox_refused_wrong_key"] == 401
    assert seen["key_shown"] is False


def regenerate(spec: dict[str, object], tmp_path: Path) -> None:
    """Write ``spec`` to a copy and generate its numbers_api into ``tmp_path``."""
    changed = tmp_path / "openapi.yaml"
    changed.write_text(yaml.safe_dump(spec, sort_keys=False))
    subprocess.run(
        ["scripts/generate.sh", str(tmp_path / "numbers_api")],
        cwd=ROOT,
        env={**os.environ, "SPEC": str(changed)},
        check=True,
        timeout=120,
    )


def run_regenerated(code: str, tmp_path: Path) -> Any:
    """What ``code`` prints (JSON), run with the numbers_api regenerated into ``tmp_path``."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Runs against a copy regenerated with the body keys renamed (numbers -> data, trackingId ->
# requestId, error -> detail); the facade is the installed, unchanged one.
RENAMED_KEYS = """
import asyncio, json, httpx, numbers_api
from numbers_async import NumbersClient, PaymentRequiredError
from numbers_async.sandbox import create_app, sandbox_client

def handler(request):
    if request.url.params.get("areaCode") == "999":
        detail = {"code": "quota", "message": "top up", "fix": "pay"}
        return httpx.Response(402, json={"requestId": "trk_9", "detail": detail})
    return httpx.Response(200, json={"data": [{"phoneNumber": "+14155550100"}]})

async def main():
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = NumbersClient("sk_test_renamed", base_url="http://numbers.test", http_client=http)
    async with client:
        numbers = await client.search("US", limit=1)
        try:
            await client.search("US", area_code="999")
        except PaymentRequiredError as e:
            error = [e.tracking_id, e.code, e.message, e.fix]
    await http.aclose()
    async with sandbox_client() as sandbox:  # the sandbox speaks the renamed spec too
        sandbox_numbers = len(await sandbox.search("US", limit=3))
    async with sandbox_client(create_app(quota=0)) as sandbox:
        try:
            await sandbox.search("US")
        except PaymentRequiredError as e:
            sandbox_error = [e.tracking_id is not None, e.code]
    print(json.dumps({"numbers_api": numbers_api.__file__,
                      "numbers": [n.phone_number for n in numbers], "error": error,
                      "sandbox_numbers": sandbox_numbers, "sandbox_error": sandbox_error}))

asyncio.run(main())
"""

RENAMES = {"numbers": "data", "trackingId": "requestId", "error": "detail"}


def _renamed(schema: dict[str, Any]) -> None:
    schema["properties"] = {RENAMES.get(k, k): v for k, v in schema["properties"].items()}
    schema["required"] = [RENAMES.get(name, name) for name in schema.get("required", [])]


@pytest.mark.slow
def test_body_keys_renamed_in_the_spec_are_read_after_regeneration(tmp_path: Path) -> None:
    """The page's list and the error body's keys renamed, regenerated: the unchanged facade reads
    pages and error fields under the new names, and the sandbox sends them (hand-written keys
    read nothing, or raised an AttributeError)."""
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    _renamed(spec["components"]["schemas"]["AvailableNumbersResponse"])
    _renamed(spec["components"]["schemas"]["ErrorResponse"])
    regenerate(spec, tmp_path)
    seen = run_regenerated(RENAMED_KEYS, tmp_path)
    assert Path(seen["numbers_api"]).is_relative_to(tmp_path)
    assert seen["numbers"] == ["+14155550100"]
    assert seen["error"] == ["trk_9", "quota", "top up", "pay"]
    assert seen["sandbox_numbers"] == 3
    assert seen["sandbox_error"] == [True, "usage_limit_exceeded"]
