"""Reading a 2xx body: check the documented shape, then let the generated models build it.

The shape check is derived from the spec (``numbers_api.spec_facts.SCHEMAS``, written by
``make generate``): every field the spec declares, new ones included, is checked for presence
when required and for its JSON type when present. Fields the spec does not know are left alone
and reach users through the generated model (forward compatibility); a value outside a listed
enum is kept too (open enums, our generator template). Whatever the generated parser still
raises becomes InvalidBody: reading a body never lets a raw KeyError or ValueError out.
A page is first checked and built in one pass by a builder compiled from the same facts
(``_compiled_build.py``); only a page it refuses (or every page, where the spec has values the
generated models convert) is walked here, to say why or drop its nulls, and built by
``from_dict``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from numbers_api.models import AvailableNumber, AvailableNumbersResponse
from numbers_api.spec_facts import SCHEMAS

from ._compiled_build import BUILD, SUCCESS_SCHEMA
from ._compiled_build import JSON_TYPES as _JSON_TYPES
from ._spec import PAGE_ATTRIBUTE, PAGE_KEY

_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "an object",
}
_ABSENT = object()


class _Check(NamedTuple):
    """One declared field, ready to check: what its value's type must be, and its items'."""

    name: str
    required: bool
    types: tuple[type, ...]
    items: tuple[type, ...] | None
    schema: str | None
    wanted: str  # "a string", "a list of strings", ... for the message


def _checks(schema: str) -> tuple[_Check, ...]:
    checks = []
    for field in SCHEMAS[schema]:
        wanted = _NAMES[field.type]
        items = None
        if field.items is not None:
            items = _JSON_TYPES[field.items]
            wanted += " of " + _NAMES[field.items].split(" ", 1)[1] + "s"
        checks.append(
            _Check(field.name, field.required, _JSON_TYPES[field.type], items, field.schema, wanted)
        )
    return tuple(checks)


_CHECKS = {schema: _checks(schema) for schema in SCHEMAS}


def shape_problem(body: Any) -> str | None:
    """What makes ``body`` differ from the documented 200 shape, or None when it matches."""
    if type(body) is not dict:
        return f"expected a JSON object, got {type(body).__name__}"
    return _object_problem(SUCCESS_SCHEMA, body)


def _object_problem(schema: str, value: dict[str, Any]) -> str | None:
    # type() checks, one lookup per key, tuple unpacking: this runs for every number of every page.
    get = value.get
    for name, required, types, items, nested, wanted in _CHECKS[schema]:
        found = get(name, _ABSENT)
        if found is _ABSENT:
            if required:
                return f"{name!r} is missing or not {wanted}"
            continue
        if type(found) not in types:
            return f"{name!r} {'is missing or' if required else 'is'} not {wanted}"
        if items is not None:
            for index, item in enumerate(found):
                if type(item) not in items:
                    if nested is not None:
                        return f"{name}[{index}]: expected an object, got {type(item).__name__}"
                    return f"{name!r} is not {wanted}"
                if nested is not None:
                    problem = _object_problem(nested, item)
                    if problem is not None:
                        return f"{name}[{index}]: {problem}"
        elif nested is not None:
            problem = _object_problem(nested, found)
            if problem is not None:
                return f"{name}: {problem}"
    return None


class InvalidBody(ValueError):
    """A 2xx body that is not the documented shape; the message says why."""


def parse_numbers(content: bytes, asked: int | None = None) -> list[AvailableNumber]:
    """The numbers of a 2xx body, at most ``asked`` of them; InvalidBody when it is not the
    documented shape."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise InvalidBody(f"not JSON ({type(exc).__name__})") from None
    _cut(body, asked)
    numbers: list[AvailableNumber] | None = None
    if BUILD is not None:
        page = _generated(BUILD, body)  # one pass: checked and built (None: not exactly the shape)
        if page is not None:
            numbers = getattr(page, PAGE_ATTRIBUTE)
    if numbers is None:
        _tolerate(body)  # the slow way: say why, or read nulls as absent
        problem = shape_problem(body)
        if problem is not None:
            raise InvalidBody(problem)
        numbers = getattr(_generated(AvailableNumbersResponse.from_dict, body), PAGE_ATTRIBUTE)
    for number in numbers:
        if number.additional_properties:  # fields the spec does not know: kept, if not too deep
            _check_depth(number.additional_properties)
    return numbers


MAX_UNKNOWN_DEPTH = 32
"""How deep a field the spec does not know may nest lists and objects: a number is kept for the
caller, copied by ``to_json_dict`` and pickled with an error's ``partial_numbers``, all of which
recurse (600 levels, which json.loads takes, raised RecursionError in each)."""


def _check_depth(fields: dict[str, Any]) -> None:
    """InvalidBody naming the first value of ``fields`` that nests deeper than
    MAX_UNKNOWN_DEPTH."""
    for name, value in fields.items():
        level = [value] if type(value) in (dict, list) else []
        for _ in range(MAX_UNKNOWN_DEPTH):
            level = [
                item
                for container in level
                for item in (container.values() if type(container) is dict else container)
                if type(item) in (dict, list)
            ]
        if level:
            raise InvalidBody(
                f"{name!r}, a field the spec does not declare, nests deeper than "
                f"{MAX_UNKNOWN_DEPTH} levels"
            )


def _generated(build: Callable[[Any], Any], body: Any) -> Any:
    """``build(body)``, whatever the generated models raise as InvalidBody."""
    try:
        return build(body)
    except Exception as exc:  # the generated parser's own checks (a closed enum, a format...)
        raise InvalidBody(f"the generated parser refused it: {type(exc).__name__}: {exc}") from None


def _numbers(body: Any) -> list[Any] | None:
    """The page's list of numbers, if it has one."""
    if type(body) is not dict or type(body.get(PAGE_KEY)) is not list:
        return None
    numbers: list[Any] = body[PAGE_KEY]
    return numbers


def _cut(body: Any, asked: int | None) -> None:
    """Cut the page to the numbers asked for, so extra items cost neither a check nor a model."""
    numbers = _numbers(body)
    if numbers is not None and asked is not None:
        del numbers[asked:]


def _tolerate(body: Any) -> None:
    """Read a JSON null in a number's field as absent (a null phoneNumber then fails as
    missing, as it must)."""
    for item in _numbers(body) or ():
        if type(item) is dict and None in item.values():
            for key in [key for key, value in item.items() if value is None]:
                del item[key]
