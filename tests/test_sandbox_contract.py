"""Contract: schemathesis finds no sandbox response that breaks spec/openapi.yaml.

Two runs, each a few seconds, deterministic (derandomized, no example database):
- the spec as written, positive and negative inputs: every response (status, content type,
  body, headers) must match the spec, invalid inputs must be rejected, auth must be enforced;
- the spec with its query parameters narrowed to what its prose calls valid (a country the
  sandbox stocks, feature names, digit area codes), positive inputs only: each must get a 200
  whose body matches the spec. The spec types those parameters as free strings, which is why the
  first run cannot hold the sandbox to accepting every schema-valid input: the API rejects
  ``countryCode=AA`` or ``features=abc`` with its documented 400.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import settings
from schemathesis import GenerationMode

from numbers_async._auth import key_headers
from numbers_async.sandbox import DEFAULT_API_KEY, FEATURES, SUPPORTED_COUNTRIES, create_app

SPEC = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"
AUTH = key_headers(DEFAULT_API_KEY)
EXAMPLES = 60
FEATURE = "(" + "|".join(FEATURES) + ")"
VALID_QUERY = {
    "countryCode": {"type": "string", "enum": list(SUPPORTED_COUNTRIES)},
    "features": {"type": "string", "pattern": f"^{FEATURE}(,{FEATURE}){{0,3}}$"},
    "areaCode": {"type": "string", "pattern": "^[0-9]{1,8}$"},
}


def _narrowed(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with the search's query parameters narrowed to the values its prose allows."""
    narrowed = copy.deepcopy(spec)
    for parameter in narrowed["paths"]["/numbers/available"]["get"]["parameters"]:
        parameter["schema"] = VALID_QUERY.get(parameter["name"], parameter["schema"])
    return narrowed


as_written = schemathesis.openapi.from_path(SPEC)
as_written.app = create_app()

valid_only = schemathesis.openapi.from_dict(_narrowed(yaml.safe_load(SPEC.read_text())))
valid_only.app = create_app()
valid_only.config.generation.update(modes=[GenerationMode.POSITIVE])

run_settings = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True)


@pytest.mark.slow
@as_written.parametrize()
@run_settings
def test_every_response_conforms_to_the_spec(case: schemathesis.Case[Any]) -> None:
    """Any input, valid or not: the sandbox's answer is one the spec documents, in its shape."""
    case.call_and_validate(
        headers=AUTH, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )


@pytest.mark.slow
@valid_only.parametrize()
@run_settings
def test_every_valid_search_gets_numbers_in_the_spec_shape(case: schemathesis.Case[Any]) -> None:
    """Any search the spec's prose calls valid gets a 200 whose body matches the spec."""
    response = case.call_and_validate(headers=AUTH)
    assert response.status_code == 200
