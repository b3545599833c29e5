"""Results as JSON: a number as the API's own object, ready for ``json.dumps``."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ._spec import NUMBER_FIELDS

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

_ORDER = tuple(field.name for field in NUMBER_FIELDS)


def to_json_dict(number: AvailableNumber) -> dict[str, Any]:
    """``number`` as the API's JSON object: its declared fields in spec order, then the ones
    the spec does not know yet; absent fields left out; values copied (changing the dict never
    changes the number). ``AvailableNumber.from_dict`` reads it back as an equal number."""
    fields = number.to_dict()
    ordered = {name: fields.pop(name) for name in _ORDER if name in fields}
    ordered.update(fields)
    return copy.deepcopy(ordered)
