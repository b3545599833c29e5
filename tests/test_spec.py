"""spec/openapi.yaml: valid OpenAPI 3.1, faithful to the seed, and guarded by check-generated."""

import os
import subprocess
from pathlib import Path
from typing import Any

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


def test_operation_matches_seed() -> None:
    """One GET operation with the seed's parameter names, types and bounds."""
    op = load_spec()["paths"]["/numbers/available"]["get"]
    assert op["operationId"] == "searchAvailableNumbers"
    assert op["summary"] == "Search for available phone numbers"
    params = {p["name"]: p for p in op["parameters"]}
    assert list(params) == ["countryCode", "features", "areaCode", "limit"]
    assert params["countryCode"]["required"] is True
    assert params["countryCode"]["schema"]["pattern"] == "^[A-Z]{2}$"
    assert params["features"]["schema"] == {"type": "string"}
    assert params["limit"]["schema"] == {
        "type": "integer",
        "default": 10,
        "minimum": 1,
        "maximum": 50,
    }
    assert all(p["in"] == "query" for p in params.values())


def test_error_responses_match_seed() -> None:
    """400, 402 and 502 carry ErrorResponse; 401 and 500 have no body schema."""
    responses = load_spec()["paths"]["/numbers/available"]["get"]["responses"]
    assert set(responses) == {"200", "400", "401", "402", "500", "502"}
    for status in ("400", "402", "502"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    for status in ("401", "500"):
        assert "content" not in responses[status]


def test_schemas_keep_open_strings_and_required_fields() -> None:
    """Required fields as in the seed; phoneNumberType and features are open strings."""
    schemas = load_spec()["components"]["schemas"]
    number = schemas["AvailableNumber"]
    assert number["required"] == ["phoneNumber"]
    assert "enum" not in number["properties"]["phoneNumberType"]
    assert number["properties"]["features"]["items"] == {"type": "string"}
    assert schemas["AvailableNumbersResponse"]["required"] == ["numbers"]
    assert schemas["ErrorResponse"]["required"] == ["trackingId", "error"]
    assert schemas["ErrorDetail"]["required"] == ["code", "message"]
    assert set(schemas["ErrorDetail"]["properties"]) == {
        "code",
        "message",
        "fix",
        "provider",
        "providerCode",
    }


def test_no_server_url_and_bearer_security() -> None:
    """No invented production URL; bearer auth declared and explained as our reading."""
    spec = load_spec()
    assert "servers" not in spec
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "Our reading" in spec["info"]["description"]


def test_check_generated_fails_on_a_spec_change_nobody_regenerated(tmp_path: Path) -> None:
    """Editing one description without regenerating makes check-generated fail, naming files."""
    changed = tmp_path / "openapi.yaml"
    changed.write_text(
        SPEC_PATH.read_text().replace(
            "Actionable hint for fixing the error.", "A hint for fixing the error."
        )
    )
    result = subprocess.run(
        ["make", "-s", "check-generated"],
        cwd=ROOT,
        env={**os.environ, "SPEC": str(changed)},
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert result.returncode != 0
    assert "models/error_detail.py" in result.stdout
    assert "is stale" in result.stdout
