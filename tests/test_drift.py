"""Drift tests: each hand-written fact that mirrors spec/openapi.yaml is compared with the spec's
facts (numbers_api.spec_facts, written by `make generate`), and a failure names the spec change
and the file to update. Everything else is derived from the spec and needs no test of its own
beyond `make check-generated`."""

from __future__ import annotations

import inspect
import json
import random
from functools import partial
from typing import Any

import httpx
import pytest
from numbers_api import spec_facts
from numbers_api.api.default import search_available_numbers
from numbers_api.spec_facts import Parameter
from sandbox_support import get

from numbers_async import InvalidRequestError, NumbersClient, SearchFilters
from numbers_async import _validation as check
from numbers_async._spec import ERROR_DETAIL_KEY, ERROR_TRACKING_KEY, NUMBER_FIELDS, PARAMETERS
from numbers_async.cli._args import FEATURE_NAMES, build_parser
from numbers_async.errors import (
    _ERROR_FIELDS,
    _GATEWAY_CLASSES,
    _STATUS_CLASSES,
    APIStatusError,
)
from numbers_async.sandbox import create_app
from numbers_async.sandbox._inventory import FEATURES
from numbers_async.sandbox._responses import scripted_response

# The search arguments that set a spec parameter themselves (limit is the search's total).
OWN_ARGUMENTS = {"country_code", "limit"}


def test_every_parameter_of_the_spec_reaches_the_generated_endpoint() -> None:
    """The generator skips a parameter it cannot type (one declared with ``content:``) without
    a word: each of the spec's parameters must be a keyword of the generated endpoint."""
    generated = set(inspect.signature(search_available_numbers._get_kwargs).parameters)
    dropped = sorted(p.name for p in spec_facts.PARAMETERS if p.python_name not in generated)
    assert not dropped, (
        f"openapi-python-client generated no argument for spec parameter(s) {dropped}: declare "
        "each with a `schema:` of a string, integer, number or boolean in spec/openapi.yaml"
    )


def test_every_parameter_of_the_generated_endpoint_reaches_users() -> None:
    """search()/iter_search() (through SearchFilters) and the CLI accept every spec parameter."""
    generated = set(inspect.signature(search_available_numbers._get_kwargs).parameters)
    exposed = OWN_ARGUMENTS | set(SearchFilters.__annotations__)
    missing = sorted(generated - exposed)
    assert not missing, (
        f"spec/openapi.yaml has query parameter(s) {missing} that search() and iter_search() "
        "do not expose: add one line per parameter to SearchFilters in "
        "numbers_async/_filters.py (its Python name and type); the CLI option follows"
    )
    stale = sorted(set(SearchFilters.__annotations__) - generated)
    assert not stale, f"{stale} left the spec: remove them from numbers_async/_filters.py"
    options = set(vars(build_parser().parse_args(["search", "US"])))
    assert generated - {"country_code"} <= options, "the CLI misses a filter: cli/_args.py"


def test_every_documented_error_status_has_its_own_class() -> None:
    """Each documented non-2xx status maps to an APIStatusError subclass of its own."""
    documented = {status for status in spec_facts.STATUSES if not 200 <= status < 300}
    missing = sorted(documented - set(_STATUS_CLASSES))
    assert not missing, (
        f"spec/openapi.yaml documents status(es) {missing} with no error class of their own "
        "(they surface as UnexpectedStatusError): add a class to numbers_async/errors.py, "
        "map it in _STATUS_CLASSES, export it from numbers_async/__init__.py and the README"
    )
    undocumented = sorted(set(_STATUS_CLASSES) - documented - set(_GATEWAY_CLASSES))
    assert not undocumented, f"{undocumented} are mapped in errors.py but not in the spec"


def test_every_error_detail_field_is_read_onto_the_error() -> None:
    """Each ErrorDetail property of the spec is read into an APIStatusError attribute."""
    fields = {field.name: field.python_name for field in spec_facts.SCHEMAS["ErrorDetail"]}
    assert fields == _ERROR_FIELDS, (
        "spec/openapi.yaml's ErrorDetail properties changed: update _ERROR_FIELDS and "
        "APIStatusError's attributes in numbers_async/errors.py"
    )
    attributes = set(inspect.signature(APIStatusError.__init__).parameters)
    assert set(fields.values()) <= attributes
    (tracking,) = [f for f in spec_facts.SCHEMAS["ErrorResponse"] if f.type == "string"]
    assert tracking.python_name in attributes, "ErrorResponse's id field: errors.py"


def test_every_documented_error_body_is_the_one_errors_py_reads() -> None:
    """The error statuses that carry a body all carry one schema, whose tracking id and detail
    keys errors.py reads (from the spec): another schema's fields would reach no attribute."""
    schemas = {schema for status, schema in spec_facts.STATUSES.items() if status >= 400}
    others = sorted(schema for schema in schemas if schema not in (None, "ErrorResponse"))
    assert not others, (
        f"spec/openapi.yaml documents error body schema(s) {others} besides ErrorResponse: "
        "numbers_async/errors.py reads only ErrorResponse's fields onto the error (the rest stay "
        "in .body): read theirs too (_read_error_body) and give them attributes"
    )
    keys = {field.name for field in spec_facts.SCHEMAS["ErrorResponse"]}
    assert {ERROR_TRACKING_KEY, ERROR_DETAIL_KEY} == keys, "_spec.py's _error_body_keys() differs"


def test_numbers_are_told_apart_by_a_field_the_spec_requires() -> None:
    """Pages are de-duplicated by ``phone_number`` (_pagination.py), which the CLI shows first
    and the sandbox stocks: it must be a required field of a number."""
    required = [field.python_name for field in NUMBER_FIELDS if field.required]
    assert "phone_number" in required, (
        f"spec/openapi.yaml's number has no required phoneNumber (required: {required}): "
        "numbers_async/_pagination.py (new_numbers) tells numbers apart by it; so do "
        "numbers_async/sandbox/_inventory.py (_OWN_FIELDS) and cli/_formats.py (its columns)"
    )


def test_the_feature_names_the_cli_and_the_sandbox_list_agree_with_the_spec() -> None:
    """The CLI's help and the sandbox's stock name the same features; once the spec lists them
    (an enum on a number's features), they must be the spec's."""
    assert set(FEATURE_NAMES) == set(FEATURES), "cli/_args.py and sandbox/_inventory.py differ"
    (features,) = [field for field in NUMBER_FIELDS if field.name == "features"]
    listed = set(FEATURES) if features.enum is None else set(features.enum)
    assert set(FEATURES) == listed, (
        f"spec/openapi.yaml lists features {sorted(listed)}: update FEATURES in "
        "numbers_async/sandbox/_inventory.py and FEATURE_NAMES in numbers_async/cli/_args.py"
    )


async def test_the_sandbox_produces_every_documented_number_field() -> None:
    """A page of local numbers (the fullest: toll-free ones have no locality) has every field
    the spec declares."""
    response = await get(create_app(seed=3), {"countryCode": "US", "areaCode": "415"})
    sent: set[str] = set()
    for number in response.json()["numbers"]:
        sent |= set(number)
    missing = sorted({field.name for field in NUMBER_FIELDS} - sent)
    assert not missing, (
        f"spec/openapi.yaml declares number field(s) {missing} the sandbox never sends: "
        "give each an `example` in the spec (the sandbox sends it) or a value of the "
        "inventory's own in SandboxNumber.to_json(), numbers_async/sandbox/_inventory.py"
    )


def violations(param: Parameter) -> list[Any]:
    """Values that break one of ``param``'s constraints, built from the constraint itself."""
    bad: list[Any] = []
    if param.pattern is not None:
        bad += ["", "not valid!", "\n"]
    if param.minimum is not None:
        bad.append(int(param.minimum) - 1)
    if param.maximum is not None:
        bad.append(int(param.maximum) + 1)
    if param.enum is not None:
        bad.append("not-a-listed-value")
    return bad


CONSTRAINED = [(p, v) for p in spec_facts.PARAMETERS for v in violations(p)]


@pytest.mark.parametrize(("param", "value"), CONSTRAINED, ids=lambda x: repr(x)[:30])
async def test_the_sandbox_enforces_every_parameter_constraint(
    param: Parameter, value: Any
) -> None:
    """A value outside a parameter's pattern, bounds or enum gets the sandbox's 400."""
    query: dict[str, Any] = {"countryCode": "US", param.name: value}
    response = await get(create_app(), query)
    assert response.status_code == 400, (
        f"the sandbox accepted {param.name}={value!r} though spec/openapi.yaml forbids it: "
        "numbers_async/sandbox/_query.py must check every spec constraint"
    )
    assert param.name in response.json()["error"]["message"]


@pytest.mark.parametrize(("param", "value"), CONSTRAINED, ids=lambda x: repr(x)[:30])
def test_the_facade_enforces_every_parameter_constraint(param: Parameter, value: Any) -> None:
    """The facade refuses the same values before any request (limit: only its minimum, since
    a search pages past the per-request maximum)."""
    if param.python_name == "limit" and param.maximum is not None and value > param.maximum:
        assert check.limit(value) == value  # a search's total, paged
        return
    if param.python_name == "country_code" and isinstance(value, str):
        value = value.lower() if value.isalpha() else value
    own = param.python_name in OWN_ARGUMENTS
    checker = (
        getattr(check, param.python_name) if own else partial(check.parameter, param.python_name)
    )
    with pytest.raises(InvalidRequestError) as caught:
        checker(value)
    assert caught.value.argument == param.python_name


def test_the_required_parameters_are_the_search_positional_ones() -> None:
    """Only countryCode is required: search()'s one positional argument."""
    required = [p.python_name for p in PARAMETERS.values() if p.required]
    positional = [
        name
        for name, p in inspect.signature(NumbersClient.search).parameters.items()
        if p.kind is p.POSITIONAL_OR_KEYWORD and name != "self"
    ]
    assert required == positional, (
        f"spec/openapi.yaml's required parameters are now {required}: make them positional "
        "arguments of search() and iter_search() in numbers_async/_client.py"
    )


async def test_an_exposed_filter_is_sent_on_the_wire() -> None:
    """Each SearchFilters entry goes out under its spec name (here area_code → areaCode)."""
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"numbers": []})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with NumbersClient("k", base_url="http://api.test", http_client=http) as client:
        await client.search("US", area_code="415")
    await http.aclose()
    assert seen[0].params[PARAMETERS["area_code"].name] == "415"


@pytest.mark.parametrize("status", sorted(s for s in spec_facts.STATUSES if s >= 300))
def test_the_sandbox_answers_each_documented_status_in_its_documented_shape(status: int) -> None:
    """A scripted documented status gets the body the spec documents for it: the schema's
    required fields, or no JSON body when the spec documents none."""
    response = scripted_response(status, "trk_1", random.Random(0))
    schema = spec_facts.STATUSES[status]
    where = "numbers_async/sandbox/_responses.py (scripted_response)"
    if schema is None:
        assert response.content_type != "application/json", (
            f"spec/openapi.yaml documents no body for {status}; the sandbox sends JSON: {where}"
        )
        return
    assert response.content_type == "application/json", (
        f"spec/openapi.yaml documents a {schema} body for {status}: {where}"
    )
    body = json.loads(response.body)
    required = {f.name for f in spec_facts.SCHEMAS[schema] if f.required}
    assert required <= set(body), f"{status}'s body lacks {required - set(body)}: {where}"
