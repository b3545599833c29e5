"""Reading a 200 body: the shape check follows the spec's schema field by field, its compiled
fast path (the one-pass builder) agrees with it and with the generated models, and nothing the
generated parser raises escapes as a raw exception."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numbers_api.models import AvailableNumbersResponse
from numbers_api.spec_facts import SCHEMAS, Field

from numbers_async import _compiled_build, _parse, to_json_dict
from numbers_async._compiled_build import BUILD, SUCCESS_SCHEMA, buildable, model_classes
from numbers_async._parse import (
    MAX_UNKNOWN_DEPTH,
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


def _sample(json_type: str, name: str) -> Any:
    """A value of ``json_type`` telling its field apart (a string holds the field's name), so a
    model built with its fields in the wrong order differs."""
    if json_type == "string":
        return name
    if json_type in ("integer", "number"):
        return SAMPLES[json_type] + len(name)
    return SAMPLES[json_type]


def valid_number() -> dict[str, Any]:
    """A number with every declared field at a value of its type (arrays of one item), each
    field's value its own."""
    number: dict[str, Any] = {}
    for field in NUMBER_FIELDS:
        value = _sample(field.type, field.name)
        number[field.name] = [_sample(field.items, field.name)] if field.items else value
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


def nested(depth: int) -> Any:
    """Lists and objects nested ``depth`` levels deep, alternately."""
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"next": value}
    return value


@pytest.mark.parametrize("slow_way", [False, True], ids=["builder", "from_dict"])
def test_an_unknown_field_nests_at_most_max_unknown_depth_levels(
    slow_way: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept up to MAX_UNKNOWN_DEPTH levels (then copied by to_json_dict and pickled, both
    recursive); one level more refuses the page (600, which json.loads takes, made both raise
    RecursionError)."""
    if slow_way:
        monkeypatch.setattr(_parse, "BUILD", None)
    deepest = nested(MAX_UNKNOWN_DEPTH)
    (parsed,) = parse_numbers(json.dumps(body({**valid_number(), "x": deepest})).encode())
    assert to_json_dict(parsed)["x"] == deepest
    assert pickle.loads(pickle.dumps(parsed)) == parsed
    for depth in (MAX_UNKNOWN_DEPTH + 1, 600):
        page = json.dumps(body({**valid_number(), "ok": 1, "x": nested(depth)})).encode()
        with pytest.raises(InvalidBody, match=r"^'x', a field .* deeper than 32 levels$"):
            parse_numbers(page)


@pytest.mark.parametrize("raised", [ValueError("x"), KeyError("y"), TypeError("z")])
def test_whatever_the_generated_parser_raises_becomes_invalid_body(
    monkeypatch: pytest.MonkeyPatch, raised: Exception
) -> None:
    """A check of the generated parser the shape check does not know (a closed enum, a date
    format) fails as InvalidBody naming the exception, never as the raw exception."""

    def refuse(cls: type, src: object) -> None:
        raise raised

    monkeypatch.setattr(AvailableNumbersResponse, "from_dict", classmethod(refuse))
    monkeypatch.setattr(_parse, "BUILD", None)  # as with a spec the builder does not cover
    with pytest.raises(InvalidBody, match=type(raised).__name__):
        parse_numbers(json.dumps(body(valid_number())).encode())


def test_a_documented_page_is_built_without_from_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spec's schemas pass values through, so pages are built in one pass: the generated
    from_dict is not called, and the models equal those it builds."""
    page = {"numbers": [valid_number(), {**valid_number(), "zz_unknown": [1]}]}
    expected = AvailableNumbersResponse.from_dict(copy.deepcopy(page)).numbers

    def refuse(cls: type, src: object) -> None:
        raise AssertionError("from_dict called")

    monkeypatch.setattr(AvailableNumbersResponse, "from_dict", classmethod(refuse))
    numbers = parse_numbers(json.dumps(page).encode())
    assert numbers == expected
    assert numbers[1].additional_properties == {"zz_unknown": [1]}


def test_a_page_off_the_shape_goes_the_slow_way_and_says_why() -> None:
    page = {"numbers": [{**valid_number(), "locality": None}, valid_number()]}
    assert BUILD is not None
    assert BUILD(copy.deepcopy(page)) is None
    numbers = parse_numbers(json.dumps(page).encode())  # the null read as absent
    without = {key: value for key, value in valid_number().items() if key != "locality"}
    assert (
        numbers
        == AvailableNumbersResponse.from_dict({"numbers": [without, valid_number()]}).numbers
    )
    with pytest.raises(InvalidBody, match="'phoneNumber' is missing"):
        parse_numbers(json.dumps(body({"locality": "x"})).encode())


def with_number_field(monkeypatch: pytest.MonkeyPatch, name: str, **changes: Any) -> None:
    """The builder's view of the spec, with the number's field ``name`` changed."""
    schema = "AvailableNumber"
    fields = tuple(
        field._replace(**changes) if field.name == name else field for field in SCHEMAS[schema]
    )
    monkeypatch.setattr(_compiled_build, "SCHEMAS", {**SCHEMAS, schema: fields})


@pytest.mark.parametrize(
    "changes",
    [
        {"format": "date-time"},  # from_dict would parse it into a datetime
        {"enum": ("local", "mobile")},  # an enum class
        {"python_name": "renamed"},  # a field the model does not have
    ],
)
def test_no_builder_where_from_dict_converts_or_the_model_differs(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]
) -> None:
    classes = model_classes()
    assert buildable(SUCCESS_SCHEMA, classes)
    with_number_field(monkeypatch, "locality", **changes)
    assert not buildable(SUCCESS_SCHEMA, classes)
    assert _compiled_build._compile() is None


def test_no_builder_where_additional_properties_are_typed() -> None:
    """A schema with typed additionalProperties: from_dict converts each extra value."""
    classes = model_classes()
    fields = {a.name: attrs.field() for a in attrs.fields(classes["AvailableNumber"]) if a.init}
    typed = attrs.make_class(
        "AvailableNumber",
        {
            **fields,
            "additional_properties": attrs.field(init=False, factory=dict, type=dict[str, int]),
        },
    )
    typed.from_dict = classes["AvailableNumber"].from_dict  # type: ignore[attr-defined]
    assert not buildable(SUCCESS_SCHEMA, {**classes, "AvailableNumber": typed})


def test_no_builder_without_a_model_class_for_each_schema() -> None:
    classes = model_classes()
    assert {name: cls.__name__ for name, cls in classes.items()} == {
        "AvailableNumbersResponse": "AvailableNumbersResponse",
        "AvailableNumber": "AvailableNumber",
        "ErrorResponse": "ErrorResponse",
        "ErrorDetail": "ErrorDetail",
    }
    del classes["AvailableNumber"]
    assert not buildable(SUCCESS_SCHEMA, classes)


# The builder (_compiled_build.py) against the slow way: bodies near the documented shape.
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


BUILT: list[bool] = []


@settings(max_examples=250, derandomize=True, database=None, deadline=None)
@given(body=near_pages)
def builder_against_slow_way(body: Any) -> None:
    assert BUILD is not None
    built = BUILD(body)
    BUILT.append(built is not None)
    tolerated = copy.deepcopy(body)
    _tolerate(tolerated)
    assert (built is not None) is (tolerated == body and shape_problem(body) is None)
    if built is not None:
        expected = AvailableNumbersResponse.from_dict(copy.deepcopy(body))
        assert built == expected
        assert [type(number) for number in built.numbers] == [
            type(number) for number in expected.numbers
        ]


def test_the_builder_takes_what_the_slow_way_takes_unchanged_and_builds_the_same() -> None:
    """On pages near the documented shape the builder builds exactly those the field table
    accepts and the null tolerance leaves as they are (skipping both then changes nothing), its
    models equal the generated from_dict's (additional_properties included), and the pages
    tried get both answers often."""
    BUILT.clear()
    builder_against_slow_way()
    assert BUILT.count(True) >= 25
    assert BUILT.count(False) >= 25


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(numbers=st.lists(st.builds(valid_number), max_size=5), extra=json_values)
def test_a_documented_page_takes_the_fast_path(numbers: list[dict[str, Any]], extra: Any) -> None:
    """Pages of the documented shape, unknown non-null fields included, are built; an
    unknown null field sends the page the slow way, which drops it."""
    assert BUILD is not None
    page = {"numbers": [{**number, "zz_unknown": extra} for number in numbers]}
    assert (BUILD(page) is not None) is (extra is not None or not numbers)
    assert BUILD({"numbers": numbers}) is not None
    # beside the numbers, a null is kept on either path: no reason for the slow one
    assert BUILD({"numbers": numbers, "next": None, "zz_unknown": extra}) is not None
