"""Reading a 200 body: the shape check follows the spec's schema field by field, its compiled
fast path agrees with it, and nothing the generated parser raises escapes as a raw exception."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numbers_api.models import AvailableNumbersResponse
from numbers_api.spec_facts import Field

from numbers_async._compiled_shape import IS_SHAPED, SUCCESS_SCHEMA
from numbers_async._parse import (
    InvalidBody,
    _tolerate,
    parse_numbers,
    shape_problem,
)
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


# The fast path (_compiled_shape.py) against the slow one: bodies near the documented shape.
json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=4,
)
odd_values = st.sampled_from([*SAMPLES.values(), *WRONG.values(), None, ["x", None], [1]])
field_names = st.sampled_from([field.name for field in NUMBER_FIELDS])
near_numbers = st.builds(  # a documented number, some fields dropped or set to odd values
    lambda dropped, odd, extra: {
        **extra,
        **{k: v for k, v in valid_number().items() if k not in dropped},
        **odd,
    },
    st.sets(field_names, max_size=2),
    st.dictionaries(field_names, odd_values, max_size=1),
    st.dictionaries(st.text(max_size=5), json_values, max_size=2),
)
near_pages: st.SearchStrategy[Any] = st.builds(
    lambda numbers, extra: {**extra, "numbers": numbers},
    st.lists(st.one_of(near_numbers, near_numbers, near_numbers, json_values), max_size=4),
    st.dictionaries(st.text(max_size=5), json_values, max_size=1),
) | st.sampled_from([None, [], {}, {"numbers": None}, {"numbers": {}}])


VERDICTS: list[bool] = []


@settings(max_examples=250, derandomize=True, database=None, deadline=None)
@given(body=near_pages)
def fast_check_against_slow_way(body: Any) -> None:
    fast = IS_SHAPED[SUCCESS_SCHEMA](body)
    VERDICTS.append(fast)
    if fast:
        tolerated = copy.deepcopy(body)
        _tolerate(tolerated)
        assert tolerated == body
        assert shape_problem(body) is None


def test_the_fast_check_passes_only_what_the_slow_way_passes_unchanged() -> None:
    """IS_SHAPED says yes only to a page the field table accepts and the null tolerance leaves
    as it is (then skipping both changes nothing), and the pages tried get both answers often."""
    VERDICTS.clear()
    fast_check_against_slow_way()
    assert VERDICTS.count(True) >= 25
    assert VERDICTS.count(False) >= 25


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(numbers=st.lists(st.builds(valid_number), max_size=5), extra=json_values)
def test_a_documented_page_takes_the_fast_path(numbers: list[dict[str, Any]], extra: Any) -> None:
    """Pages of the documented shape, unknown non-null fields included, pass the fast check; an
    unknown null field sends the page the slow way, which drops it."""
    page = {"numbers": [{**number, "zz_unknown": extra} for number in numbers]}
    assert IS_SHAPED[SUCCESS_SCHEMA](page) is (extra is not None or not numbers)
    assert IS_SHAPED[SUCCESS_SCHEMA]({"numbers": numbers})
    # beside the numbers, a null is kept on either path: no reason for the slow one
    assert IS_SHAPED[SUCCESS_SCHEMA]({"numbers": numbers, "next": None, "zz_unknown": extra})
