"""Usage: spec_facts.py SPEC OUT — write OUT, the spec's facts the pinned generator drops.

openapi-python-client writes models and the endpoint but leaves out parameter constraints
(pattern, minimum, maximum), the documented statuses, the security scheme and the order of
fields. numbers_async, its sandbox and its CLI read them from the module this writes
(numbers_api/spec_facts.py), so a spec edit reaches them through `make generate` alone.
Anything this script does not understand fails the generation, naming the spec's part.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import yaml
from openapi_python_client.strings import PythonIdentifier

# The generator's prefix for a name that is not a valid identifier (its `field_prefix` default).
FIELD_PREFIX = "field_"
# The query parameter whose maximum is the most numbers one request returns (the page size).
PAGE_PARAMETER = "limit"
SCALARS = {"string", "integer", "number", "boolean"}
PARAMETER_KEYWORDS = (
    "name",
    "python_name",
    "required",
    "type",
    "default",
    "pattern",
    "minimum",
    "maximum",
    "enum",
    "description",
)
FIELD_KEYWORDS = (
    "name",
    "python_name",
    "required",
    "type",
    "items",
    "schema",
    "enum",
    "example",
    "format",
)

HEADER = '''"""The spec's facts the generator drops, for numbers_async, its sandbox and its CLI.

Written by scripts/spec_facts.py from the spec (`make generate`); never edit by hand.
"""

from typing import Final, NamedTuple


class Parameter(NamedTuple):
    """One query parameter of the operation, with its JSON Schema constraints."""

    name: str  # on the wire
    python_name: str  # the generated endpoint's keyword argument
    required: bool
    type: str  # JSON Schema type: string, integer, number or boolean
    default: str | int | float | bool | None
    pattern: str | None
    minimum: int | float | None
    maximum: int | float | None
    enum: tuple[str | int, ...] | None
    description: str


class Field(NamedTuple):
    """One property of a schema, in spec order."""

    name: str  # in JSON
    python_name: str  # the generated model's attribute
    required: bool
    type: str  # string, integer, number, boolean, array or object
    items: str | None  # an array's item type
    schema: str | None  # the schema an object (or an array's objects) refers to
    # Listed values (enum, or a const; an array's: its items'); open: a value not listed is kept.
    enum: tuple[str | int, ...] | None
    example: object  # the schema's example (what the sandbox sends for a field it has no data for)
    # Its JSON Schema format (date-time, uuid...), an array's: its items'. The generated model
    # converts some formatted values; numbers_async builds those through it (_compiled_build.py).
    format: str | None
'''


def load(path: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(Path(path).read_text())
    return spec


def fail(message: str) -> NoReturn:
    sys.exit(f"scripts/spec_facts.py: {message}")


def call(name: str, keywords: tuple[str, ...], values: tuple[Any, ...]) -> str:
    """``name(keyword=value, ...)`` as source."""
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in zip(keywords, values, strict=True)) + ")"


def ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if ref is None:
        return None
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        fail(f"unsupported $ref {ref!r}")
    return str(ref[len(prefix) :])


def operation(spec: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    found = [
        (path, method, op)
        for path, item in spec.get("paths", {}).items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    ]
    if len(found) != 1:
        fail(f"expected exactly one operation, found {len(found)}: numbers_async wraps one")
    return found[0]


def parameter(param: dict[str, Any]) -> tuple[Any, ...]:
    name = param["name"]
    if param.get("in") != "query":
        fail(f"parameter {name!r} is in {param.get('in')!r}: only query parameters are handled")
    schema = param.get("schema", {})
    kind = schema.get("type", "string")
    if kind not in SCALARS:
        fail(f"parameter {name!r} has type {kind!r}: only {sorted(SCALARS)} are handled")
    enum = schema.get("enum")
    return (
        name,
        str(PythonIdentifier(name, prefix=FIELD_PREFIX)),
        bool(param.get("required", False)),
        kind,
        schema.get("default"),
        schema.get("pattern"),
        schema.get("minimum"),
        schema.get("maximum"),
        tuple(enum) if enum is not None else None,
        " ".join(str(param.get("description", "")).split()),
    )


def field(name: str, schema: dict[str, Any], required: bool) -> tuple[Any, ...]:
    items = None
    target = ref_name(schema)
    kind = "object" if target is not None else schema.get("type")
    value_format = schema.get("format")
    if kind == "array":
        item_schema = schema.get("items", {})
        value_format = item_schema.get("format")
        target = ref_name(item_schema)
        items = "object" if target is not None else item_schema.get("type")
        if items not in SCALARS | {"object"}:
            fail(f"field {name!r}: array items of type {items!r} are not handled")
    elif kind not in SCALARS | {"object"}:
        fail(f"field {name!r} has type {kind!r}: give it one of {sorted(SCALARS)}, array, object")
    enum = listed(schema.get("items", {}) if kind == "array" else schema)
    return (
        name,
        str(PythonIdentifier(name, prefix=FIELD_PREFIX)),
        required,
        kind,
        items,
        target,
        enum,
        schema.get("example"),
        value_format,
    )


def listed(schema: dict[str, Any]) -> tuple[Any, ...] | None:
    """The values ``schema`` lists: its ``enum``, or its ``const`` as the one value; or None."""
    if "enum" in schema:
        return tuple(schema["enum"])
    if "const" in schema:
        return (schema["const"],)
    return None


def security(spec: dict[str, Any]) -> tuple[str, str, str | None]:
    """(header, value prefix, HTTP auth scheme for WWW-Authenticate or None)."""
    requirements = spec.get("security", [])
    if len(requirements) != 1 or len(requirements[0]) != 1:
        fail("expected exactly one security requirement with one scheme")
    (scheme_name,) = requirements[0]
    scheme = spec["components"]["securitySchemes"][scheme_name]
    if scheme["type"] == "http" and scheme.get("scheme", "").lower() == "bearer":
        return "Authorization", "Bearer ", "Bearer"
    if scheme["type"] == "apiKey" and scheme.get("in") == "header":
        return str(scheme["name"]), "", None
    fail(f"security scheme {scheme_name!r}: only http bearer and apiKey in a header are handled")


def render(spec: dict[str, Any]) -> str:
    path, method, op = operation(spec)
    params = [parameter(p) for p in op.get("parameters", [])]
    page = [p for p in params if p[0] == PAGE_PARAMETER]
    if not page or not isinstance(page[0][7], int):
        fail(f"the {PAGE_PARAMETER!r} query parameter needs an integer maximum (the page size)")
    statuses: dict[int, str | None] = {}
    for code, response in op.get("responses", {}).items():
        if not str(code).isdigit():
            fail(f"response {code!r}: only numeric statuses are handled")
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        statuses[int(code)] = ref_name(schema) if schema is not None else None
    schemas = {
        name: [
            field(prop, prop_schema, prop in schema.get("required", []))
            for prop, prop_schema in schema.get("properties", {}).items()
        ]
        for name, schema in spec.get("components", {}).get("schemas", {}).items()
    }
    header, prefix, challenge = security(spec)

    lines = [HEADER, ""]
    lines.append(f"OPERATION_ID: Final = {op['operationId']!r}")
    lines.append(f"METHOD: Final = {method.upper()!r}")
    lines.append(f"PATH: Final = {path!r}")
    lines.append("PARAMETERS: Final[tuple[Parameter, ...]] = (")
    lines += [f"    {call('Parameter', PARAMETER_KEYWORDS, p)}," for p in params]
    lines.append(")")
    lines.append(f"# {PAGE_PARAMETER}'s maximum: the most numbers one request returns.")
    lines.append(f"PAGE_MAX: Final = {page[0][7]!r}")
    lines.append("# Each documented status and its JSON body's schema (None: no body documented).")
    lines.append(f"STATUSES: Final[dict[int, str | None]] = {statuses!r}")
    lines.append("SCHEMAS: Final[dict[str, tuple[Field, ...]]] = {")
    for name, fields in schemas.items():
        lines.append(f"    {name!r}: (")
        lines += [f"        {call('Field', FIELD_KEYWORDS, f)}," for f in fields]
        lines.append("    ),")
    lines.append("}")
    lines.append("# The header carrying the API key, and what precedes the key in its value.")
    lines.append(f"AUTH_HEADER: Final = {header!r}")
    lines.append(f"AUTH_PREFIX: Final = {prefix!r}")
    lines.append("# The scheme a 401's WWW-Authenticate names (None: not an HTTP auth scheme).")
    lines.append(f"AUTH_CHALLENGE: Final[str | None] = {challenge!r}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: spec_facts.py SPEC OUT")
    Path(sys.argv[2]).write_text(render(load(sys.argv[1])))
