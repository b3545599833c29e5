"""The shape check's fast path: one function per schema, compiled from the spec's fields.

``_parse.py``'s check walks a table of fields for every number of every page and explains what
is wrong. This answers only yes or no, with each field's test written out in a function of its
schema (as attrs and dataclasses write their methods), at about half the cost. True means the
page is the documented shape and holds no JSON null in a number (a null elsewhere stays as it
is on either path), so the table walk and the null tolerance would change nothing; on False the
page goes the slow way, which says why or fixes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numbers_api.spec_facts import SCHEMAS, STATUSES

SUCCESS_SCHEMA = STATUSES[200] or "AvailableNumbersResponse"
# A number's schema: its nulls read as absent (``_parse._tolerate``), so the check refuses them.
NUMBER_SCHEMA = next(field.schema for field in SCHEMAS[SUCCESS_SCHEMA] if field.name == "numbers")

# The exact Python types json.loads gives each JSON Schema type (bool is not an integer).
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _type_test(value: str, json_type: str) -> str:
    """A Python condition true when ``value`` is NOT of ``json_type``."""
    return f"type({value}) not in _TYPES_{json_type}"


def _source(schema: str) -> str:
    """The function ``_ok_<schema>(value)``: whether ``value`` is an object of ``schema``."""
    lines = [
        f"def {_name(schema)}(value):",
        "    if type(value) is not dict:",
        "        return False",
        "    get = value.get",
        "    present = 0",
    ]
    for field in SCHEMAS[schema]:
        lines.append(f"    found = get({field.name!r}, _ABSENT)")
        body = "        "
        if field.required:  # absent: _ABSENT's type fails the test below
            body = "    "
        else:
            lines.append("    if found is not _ABSENT:")
        lines += [f"{body}if {_type_test('found', field.type)}:", f"{body}    return False"]
        if field.items is not None:
            lines += [
                f"{body}for item in found:",
                f"{body}    if {_type_test('item', field.items)}:",
                f"{body}        return False",
            ]
            if field.schema is not None:
                lines += [
                    f"{body}    if not {_name(field.schema)}(item):",
                    f"{body}        return False",
                ]
        elif field.schema is not None:
            lines += [f"{body}if not {_name(field.schema)}(found):", f"{body}    return False"]
        lines.append(f"{body}present += 1")
    if schema == NUMBER_SCHEMA:  # every key declared, or no null among the others (the
        # slow path drops a number's nulls); elsewhere an unknown null is kept, as it is
        lines.append("    return present == len(value) or None not in value.values()")
    else:
        lines.append("    return True")
    return "\n".join(lines)


def _name(schema: str) -> str:
    """A Python name for ``schema``'s function (a spec may name a schema ``Error-Detail``)."""
    return f"_ok_{list(SCHEMAS).index(schema)}"


def _compile() -> dict[str, Callable[[Any], bool]]:
    """Every schema's check, compiled together (they call each other)."""
    namespace: dict[str, Any] = {"_ABSENT": object()}
    namespace.update({f"_TYPES_{name}": types for name, types in JSON_TYPES.items()})
    exec(
        compile("\n\n".join(_source(schema) for schema in SCHEMAS), "<shape checks>", "exec"),
        namespace,
    )
    return {schema: namespace[_name(schema)] for schema in SCHEMAS}


IS_SHAPED = _compile()
