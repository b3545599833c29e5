"""Reading a page in one pass: check each number and build its model together.

The generated ``from_dict`` copies each number's dict, pops every field and calls the model; a
yes-or-no shape check compiled from the spec had looked up every field before it. Together they
were 0.91 M of a W1 search's 3.3 M instructions (json.loads: 0.52 M). A builder compiled here
from the spec's fields looks up each field once, tests its JSON type, and calls the generated
attrs class (positionally) with what it found, as ``from_dict`` does: the same models, with the
same ``additional_properties``. Reading a 50-number page: 1.44 -> 1.01 M instructions; a W1
search on httpx2: 3.30 -> 2.87 M (callgrind, ``python -m benchmarks.instructions``). A number
with exactly the declared fields (the usual one) then takes a shorter way, all its values in one
lookup and ``type(v) is str`` tests: a page 1.03 -> 0.92 M, a W1 search on aiohttp 2.16 ->
2.05 M, a W2 one (64 in flight) 2.26 -> 2.16 M.

Only where ``from_dict`` passes values through unchanged: strings, integers, booleans, lists
of those, and objects and lists of objects of schemas that qualify too, with no format, enum
or const and no typed additionalProperties (the generator converts or checks some of those) and
a model whose fields are the spec's. Otherwise ``BUILD`` is
None and every page goes the slow way (``_parse.py``: the field table, then ``from_dict``). A
builder answers None for anything off the documented shape (a null in a number included): that
page goes the slow way, which says why or reads the nulls as absent. tests/test_parse.py checks
that both ways accept the same pages and build equal models.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

import attrs
import numbers_api.models
from numbers_api.spec_facts import SCHEMAS, STATUSES, Field
from numbers_api.types import UNSET

from ._spec import NUMBER_SCHEMA  # its nulls read as absent (_parse._tolerate): refused here

SUCCESS_SCHEMA = STATUSES[200] or "AvailableNumbersResponse"

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
    """A Python condition true when ``value`` is NOT of ``json_type`` (``is not``: a third
    of the instructions of ``not in`` a tuple, where one type will do)."""
    types = JSON_TYPES[json_type]
    if len(types) == 1:
        return f"type({value}) is not {types[0].__name__}"
    return f"type({value}) not in _TYPES_{json_type}"


_PASSED_THROUGH = {"string", "integer", "boolean"}


def _key(name: str) -> str:
    """A schema or class name without case or separators: how the generator's names compare."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def model_classes() -> dict[str, type]:
    """Each schema's generated attrs class, where exactly one class has its name."""
    classes: dict[str, list[type]] = {}
    for value in vars(numbers_api.models).values():
        if isinstance(value, type) and attrs.has(value):
            classes.setdefault(_key(value.__name__), []).append(value)
    found = {schema: classes.get(_key(schema), []) for schema in SCHEMAS}
    return {schema: matches[0] for schema, matches in found.items() if len(matches) == 1}


def _plain(field: Field) -> bool:
    """Whether ``from_dict`` keeps ``field``'s JSON value as it is (or builds its objects)."""
    if field.enum is not None or field.format is not None:
        return False
    kind = field.items if field.type == "array" else field.type
    return kind in _PASSED_THROUGH or (kind == "object" and field.schema is not None)


def buildable(schema: str, classes: dict[str, type], seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``schema`` and every schema it refers to can be built here."""
    cls = classes.get(schema)
    if cls is None or schema in seen:  # no class, or a cycle: leave it to from_dict
        return False
    fields = SCHEMAS[schema]
    init = [a for a in attrs.fields(cls) if a.init]
    if {a.name for a in init} != {field.python_name for field in fields}:
        return False
    if any(a.kw_only for a in init) or not hasattr(cls, "from_dict"):
        return False
    extra = attrs.fields_dict(cls).get("additional_properties")
    if extra is None or extra.type not in ("dict[str, Any]", dict[str, Any]):
        return False  # typed additionalProperties: from_dict converts each value
    inner = seen | {schema}
    return all(
        _plain(field) and (field.schema is None or buildable(field.schema, classes, inner))
        for field in fields
    )


def _reachable(schema: str, found: frozenset[str] = frozenset()) -> frozenset[str]:
    """``schema`` and the schemas its fields refer to, at any depth."""
    found |= {schema}
    for field in SCHEMAS[schema]:
        if field.schema is not None and field.schema not in found:
            found = _reachable(field.schema, found)
    return found


def _build_name(schema: str) -> str:
    return f"_build_{list(SCHEMAS).index(schema)}"


def _checked(field: Field, name: str, indent: str) -> list[str]:
    """Lines returning None unless ``name``, a value of ``field``, is of its type; a nested
    object or list of objects is built in place."""
    lines = [f"{indent}if {_type_test(name, field.type)}:", f"{indent}    return None"]
    if field.type == "array" and field.schema is not None:
        lines += [
            f"{indent}built = []",
            f"{indent}for item in {name}:",
            f"{indent}    item = {_build_name(field.schema)}(item)",
            f"{indent}    if item is None:",
            f"{indent}        return None",
            f"{indent}    built.append(item)",
            f"{indent}{name} = built",
        ]
    elif field.items is not None:  # an array of strings, integers or booleans
        lines += [
            f"{indent}for item in {name}:",
            f"{indent}    if {_type_test('item', field.items)}:",
            f"{indent}        return None",
        ]
    elif field.schema is not None:
        lines += [
            f"{indent}{name} = {_build_name(field.schema)}({name})",
            f"{indent}if {name} is None:",
            f"{indent}    return None",
        ]
    return lines


def _source(schema: str, classes: dict[str, type]) -> str:
    """``_build_<n>(value)``: the model of ``schema`` built from ``value``, or None when
    ``value`` is not exactly that shape.

    First the usual case, every declared field and no other: their values in one C call
    (``operator.itemgetter``), no presence test, no count (a W1 search: -5 % instructions).
    Then any other object: each field looked up alone, absent ones UNSET, unknown ones kept."""
    index = list(SCHEMAS).index(schema)
    fields = SCHEMAS[schema]
    names = {field.python_name: f"v{number}" for number, field in enumerate(fields)}
    # Positional, in the order of the class's __init__ (keywords cost a dict per call).
    order = [names[a.name] for a in attrs.fields(classes[schema]) if a.init]
    call = f"_CLASS_{index}({', '.join(order)})"
    lines = [
        f"def {_build_name(schema)}(value):",
        "    if type(value) is not dict:",
        "        return None",
    ]
    if fields:  # itemgetter of one name gives its value, of several a tuple
        lines += [
            f"    if len(value) == {len(fields)}:",
            "        try:",
            f"            {', '.join(names.values())} = _GET_{index}(value)",
            "        except KeyError:",
            "            pass  # other keys: the general way below",
            "        else:",
        ]
        for field in fields:
            lines += _checked(field, names[field.python_name], "            ")
        lines.append(f"            return {call}")
    lines += ["    get = value.get", "    present = 0"]
    for field in fields:
        name = names[field.python_name]
        lines.append(f"    {name} = get({field.name!r}, _ABSENT)")
        body = "    "
        if not field.required:  # absent: UNSET, as from_dict
            lines += [f"    if {name} is _ABSENT:", f"        {name} = _UNSET", "    else:"]
            body = "        "
        lines += _checked(field, name, body)
        lines.append(f"{body}present += 1")
    lines.append(f"    model = {call}")
    lines.append("    if present != len(value):  # keys the spec does not declare")
    if schema == NUMBER_SCHEMA:  # a number's nulls read as absent: the slow way drops them
        lines += ["        if None in value.values():", "            return None"]
    lines.append(
        f"        model.additional_properties = "
        f"{{key: item for key, item in value.items() if key not in _DECLARED_{index}}}"
    )
    lines.append("    return model")
    return "\n".join(lines)


def _compile() -> Callable[[Any], Any] | None:
    """The success schema's builder, or None when it (or a schema inside it) does not qualify."""
    classes = model_classes()
    if not buildable(SUCCESS_SCHEMA, classes):
        return None
    namespace: dict[str, Any] = {"_ABSENT": object(), "_UNSET": UNSET}
    namespace.update({f"_TYPES_{name}": types for name, types in JSON_TYPES.items()})
    sources = []
    for index, schema in enumerate(SCHEMAS):
        if schema in _reachable(SUCCESS_SCHEMA):
            namespace[f"_CLASS_{index}"] = classes[schema]
            namespace[f"_DECLARED_{index}"] = frozenset(field.name for field in SCHEMAS[schema])
            if SCHEMAS[schema]:
                namespace[f"_GET_{index}"] = operator.itemgetter(*(f.name for f in SCHEMAS[schema]))
            sources.append(_source(schema, classes))
    exec(compile("\n\n".join(sources), "<page builders>", "exec"), namespace)
    builder: Callable[[Any], Any] = namespace[_build_name(SUCCESS_SCHEMA)]
    return builder


# The success body's model from a decoded body, or None (then: the slow way and from_dict).
BUILD = _compile()
