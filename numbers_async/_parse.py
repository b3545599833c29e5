"""Reading a 2xx body: check the documented shape, then let the generated models build it.

The generated parser trusts its input (it raises KeyError/TypeError on a wrong shape and passes
mistyped values through), so the shape is checked here first; fields the spec does not know are
left alone and reach users through the generated model (forward compatibility).
"""

from __future__ import annotations

import json
from typing import Any

from numbers_api.models import AvailableNumber, AvailableNumbersResponse

_OPTIONAL_STRINGS = ("locality", "administrativeArea", "phoneNumberType")
_NO_FEATURES: list[str] = []


def shape_problem(body: Any) -> str | None:
    """What makes ``body`` differ from the documented 200 shape, or None when it matches."""
    if not isinstance(body, dict):
        return f"expected a JSON object, got {type(body).__name__}"
    numbers = body.get("numbers")
    if not isinstance(numbers, list):
        return "'numbers' is missing or not a list"
    for index, item in enumerate(numbers):
        problem = _item_problem(item)
        if problem is not None:
            return f"numbers[{index}]: {problem}"
    return None


def _item_problem(item: Any) -> str | None:
    # type() checks, one lookup per key, plain loops: this runs for every number of every page.
    if type(item) is not dict:
        return f"expected an object, got {type(item).__name__}"
    get = item.get
    if type(get("phoneNumber")) is not str:
        return "'phoneNumber' is missing or not a string"
    for key in _OPTIONAL_STRINGS:
        if type(get(key, "")) is not str:
            return f"{key!r} is not a string"
    features = get("features", _NO_FEATURES)
    if type(features) is not list:
        return "'features' is not a list of strings"
    for name in features:
        if type(name) is not str:
            return "'features' is not a list of strings"
    return None


class InvalidBody(ValueError):
    """A 2xx body that is not the documented shape; the message says why."""


def parse_numbers(content: bytes) -> list[AvailableNumber]:
    """The numbers of a 2xx body; InvalidBody when it is not the documented shape."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise InvalidBody(f"not JSON ({type(exc).__name__})") from None
    problem = shape_problem(body)
    if problem is not None:
        raise InvalidBody(problem)
    return AvailableNumbersResponse.from_dict(body).numbers
