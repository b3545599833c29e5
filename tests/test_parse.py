"""Reading a 200 body: the shape check follows the spec's schema field by field, and nothing the
generated parser raises escapes as a raw exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from numbers_api.models import AvailableNumbersResponse
from numbers_api.spec_facts import Field

from numbers_async._parse import InvalidBody, parse_numbers, shape_problem
from numbers_async._spec import NUMBER_FIELDS

# A value of each JSON type, and one of another type for each.
SAMPLES: dict[str, Any] = {
    "string": "x",
    "integer": 3,
    "number": 2.5,
    "boolean": True,
    "array": [],
    "object": {},
}
WRONG: dict[str, Any] = {
    "string": 5,
    "integer": "3",
    "number": "2.5",
    "boolean": 1,
    "array": "a,b",
    "object": [],
}


def valid_number() -> dict[str, Any]:
    """A number with every declared field at a value of its type (arrays of one item)."""
    number: dict[str, Any] = {}
    for field in NUMBER_FIELDS:
        value = SAMPLES[field.type]
        number[field.name] = [SAMPLES[field.items]] if field.items else value
    return number


def body(number: dict[str, Any]) -> dict[str, Any]:
    return {"numbers": [number]}


def test_a_number_with_every_declared_field_passes() -> None:
    assert shape_problem(body(valid_number())) is None


@pytest.mark.parametrize("field", NUMBER_FIELDS, ids=lambda f: f.name)
def test_each_declared_field_of_the_wrong_type_is_named(field: Field) -> None:
    """Every field the spec declares is type-checked: the problem names it."""
    number = valid_number()
    number[field.name] = WRONG[field.type]
    problem = shape_problem(body(number))
    assert problem is not None
    assert field.name in problem


@pytest.mark.parametrize("field", [f for f in NUMBER_FIELDS if f.items], ids=lambda f: f.name)
def test_array_items_are_type_checked(field: Field) -> None:
    number = valid_number()
    assert field.items is not None
    number[field.name] = [WRONG[field.items]]
    problem = shape_problem(body(number))
    assert problem is not None
    assert field.name in problem


@pytest.mark.parametrize("field", NUMBER_FIELDS, ids=lambda f: f.name)
def test_a_missing_field_fails_only_when_required(field: Field) -> None:
    number = valid_number()
    del number[field.name]
    problem = shape_problem(body(number))
    assert (problem is not None) == field.required
    if problem is not None:
        assert f"{field.name!r} is missing" in problem


def test_unknown_fields_pass_and_are_kept() -> None:
    number = {**valid_number(), "monthlyCost": {"amount": 1}}
    (parsed,) = parse_numbers(json.dumps(body(number)).encode())
    assert parsed.additional_properties == {"monthlyCost": {"amount": 1}}


@pytest.mark.parametrize("raised", [ValueError("x"), KeyError("y"), TypeError("z")])
def test_whatever_the_generated_parser_raises_becomes_invalid_body(
    monkeypatch: pytest.MonkeyPatch, raised: Exception
) -> None:
    """A check of the generated parser the shape check does not know (a closed enum, a date
    format) fails as InvalidBody naming the exception, never as the raw exception."""

    def refuse(cls: type, src: object) -> None:
        raise raised

    monkeypatch.setattr(AvailableNumbersResponse, "from_dict", classmethod(refuse))
    with pytest.raises(InvalidBody, match=type(raised).__name__):
        parse_numbers(json.dumps(body(valid_number())).encode())
