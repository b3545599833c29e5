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
    if not isinstance(item, dict):
        return f"expected an object, got {type(item).__name__}"
    if not isinstance(item.get("phoneNumber"), str):
        return "'phoneNumber' is missing or not a string"
    for key in _OPTIONAL_STRINGS:
        if key in item and not isinstance(item[key], str):
            return f"{key!r} is not a string"
    features = item.get("features", [])
    if not isinstance(features, list) or not all(isinstance(name, str) for name in features):
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
