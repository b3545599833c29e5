"""The spec's parameter constraints as checks, shared by the facade, the sandbox and the CLI.

Everything here reads ``numbers_api.spec_facts`` (written by ``make generate``), so a changed
pattern, minimum or maximum in spec/openapi.yaml changes what all three accept.
"""

from __future__ import annotations

import functools
import math
import re

from numbers_api import spec_facts
from numbers_api.spec_facts import Field, Parameter

PARAMETERS: dict[str, Parameter] = {p.python_name: p for p in spec_facts.PARAMETERS}


def _page_list() -> Field:
    """The 200 body's one array of objects (``numbers``, of AvailableNumber): where a page's
    numbers are read from. A spec without exactly one stops the import, saying so."""
    success = spec_facts.STATUSES.get(200)
    listed = (
        []
        if success is None
        else [f for f in spec_facts.SCHEMAS[success] if f.type == "array" and f.schema]
    )
    if len(listed) != 1:
        raise ImportError(
            "spec/openapi.yaml's 200 response must hold exactly one array of objects (the "
            f"numbers): it holds {len(listed)}; numbers_async reads a page from it (_spec.py)"
        )
    return listed[0]


# The 200 body's key listing the numbers, its generated model's attribute, and their schema
# (from the spec, whatever their names).
_PAGE_LIST = _page_list()
PAGE_KEY: str = _PAGE_LIST.name
PAGE_ATTRIBUTE: str = _PAGE_LIST.python_name
NUMBER_SCHEMA: str = str(_PAGE_LIST.schema)


def _error_body_keys() -> tuple[str | None, str | None]:
    """The keys of the spec's error body (the schema most documented error statuses carry):
    its required string field, the tracking id, and its object field, the detail errors.py
    reads; None where the spec has no such field (nothing is read or sent there)."""
    schemas = [schema for status, schema in spec_facts.STATUSES.items() if status >= 400 and schema]
    fields = spec_facts.SCHEMAS[max(schemas, key=schemas.count)] if schemas else ()
    ids = [field.name for field in fields if field.type == "string" and field.required]
    details = [field.name for field in fields if field.type == "object" and field.schema]
    return (ids[0] if len(ids) == 1 else None), (details[0] if len(details) == 1 else None)


# The error body's keys (trackingId, error), read by errors.py and sent by the sandbox.
ERROR_TRACKING_KEY, ERROR_DETAIL_KEY = _error_body_keys()
# The fields of one available number, in spec order: the CLI's columns and JSON key order.
NUMBER_FIELDS: tuple[Field, ...] = spec_facts.SCHEMAS[NUMBER_SCHEMA]


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """JSON Schema's ``pattern`` (a search, as in ECMA-262), with a final ``$`` meaning the
    end of the string (Python's ``$`` would also let a trailing newline through) and ASCII
    classes (``\\d`` is 0-9 there, not every Unicode digit)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII)


def violation(param: Parameter, value: object) -> str | None:
    """How ``value`` breaks ``param``'s schema (type, pattern, enum, bounds), or None."""
    kind = param.type
    if kind == "string" and not isinstance(value, str):
        return "must be a string"
    if kind == "boolean" and not isinstance(value, bool):
        return "must be a bool"
    if kind in ("integer", "number"):
        allowed = int if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            return f"must be an {'int' if kind == 'integer' else 'int or float'}"
        if not math.isfinite(value):
            return "must be finite"
        if param.minimum is not None and value < param.minimum:
            return f"must be >= {param.minimum}"
        if param.maximum is not None and value > param.maximum:
            return f"must be <= {param.maximum}"
    if param.enum is not None and value not in param.enum:
        return f"must be one of {', '.join(map(str, param.enum))}"
    pattern = param.pattern
    if pattern is not None and isinstance(value, str) and not _pattern(pattern).search(value):
        return f"must match {pattern}"
    return None


def describe(param: Parameter) -> str:
    """The parameter as the spec documents it, for help texts and error messages."""
    rules = [param.description] if param.description else []
    if param.enum is not None:
        rules.append(f"one of {', '.join(map(str, param.enum))}")
    if param.pattern is not None:
        rules.append(f"pattern {param.pattern}")
    if param.minimum is not None or param.maximum is not None:
        low = "" if param.minimum is None else f"{param.minimum} <= "
        high = "" if param.maximum is None else f" <= {param.maximum}"
        rules.append(f"{low}{param.python_name}{high}")
    return "; ".join(rules)
