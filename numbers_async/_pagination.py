"""Pagination-by-limit: the API has no cursor and returns at most 50 numbers a request, so a
search for N numbers repeats the request, de-duplicating by phoneNumber, until a stop rule holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

PAGE_MAX = 50


def next_page_size(remaining: int) -> int:
    """What the next request asks for: never more than the API's maximum or than is missing."""
    return min(PAGE_MAX, remaining)


def is_last_page(asked: int, returned: int, new: int, remaining: int) -> bool:
    """Stop when the total is reached, the inventory ran out (a short page, duplicates counted)
    or a page brought nothing new (no progress)."""
    return remaining <= 0 or returned < asked or new == 0


class Deduplicator:
    """Keeps the first occurrence of each phone number across pages, in server order."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def new_numbers(self, page: list[AvailableNumber], room: int) -> list[AvailableNumber]:
        """The numbers of ``page`` not seen before, at most ``room`` of them."""
        fresh: list[AvailableNumber] = []
        seen = self._seen
        for number in page:
            if len(fresh) >= room:
                break
            if number.phone_number not in seen:
                seen.add(number.phone_number)
                fresh.append(number)
        return fresh
