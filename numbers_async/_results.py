"""What searches return: a list that says why the search ended, and a stream that does too."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING

from numbers_api.models import AvailableNumber

from ._pagination import EXHAUSTED_REASONS, StopReason

if TYPE_CHECKING:
    from ._observed import ObservedPager
    from ._pages import Pager


class SearchResult(list[AvailableNumber]):
    """``search()``'s numbers, a plain ``list`` (equal to any list of the same numbers), that
    also says how the search ended.

    ``stop_reason``: ``"limit"``, ``"short_page"`` or ``"no_progress"`` (see README,
    pagination); ``exhausted``: True when the inventory ran out before ``limit`` numbers were
    found; ``pages``: pages read; ``requests``: page requests made (a retried page counts once;
    pages already in flight when the search stopped count too: they may have been billed).
    """

    stop_reason: StopReason | None = None
    pages: int = 0
    requests: int = 0

    @property
    def exhausted(self) -> bool:
        """True when the search ended short because the inventory ran out."""
        return self.stop_reason in EXHAUSTED_REASONS

    def _finish(self, pager: Pager) -> SearchResult:
        self.stop_reason = pager.plan.stop_reason
        self.pages = pager.plan.pages
        self.requests = pager.requests
        return self


class SearchStream(AsyncIterator[AvailableNumber]):
    """``iter_search()``'s numbers, yielded as pages arrive; ``aclose()`` stops it at once.

    ``stop_reason``, ``exhausted``, ``pages`` and ``requests`` mean what they mean on
    ``SearchResult``; ``stop_reason`` is None (and ``exhausted`` False) until the stream ends.
    """

    __slots__ = ("_numbers", "_pager")

    def __init__(self, pager: ObservedPager) -> None:
        self._pager = pager
        self._numbers = self._flatten(pager)  # runs nothing until the first __anext__

    @staticmethod
    async def _flatten(pager: ObservedPager) -> AsyncGenerator[AvailableNumber, None]:
        async with aclosing(pager.pages()) as pages:
            async for page in pages:
                unread = len(page)
                try:
                    for number in page:
                        unread -= 1  # once yielded, the caller has it
                        yield number
                finally:  # closed part-way through a page: its rest never reached the caller
                    if unread:
                        pager.search.returned -= unread

    def __aiter__(self) -> SearchStream:
        return self

    async def __anext__(self) -> AvailableNumber:
        return await anext(self._numbers)

    async def aclose(self) -> None:
        """Stop the search: cancel its requests in flight; no request is sent after this."""
        await self._numbers.aclose()

    @property
    def stop_reason(self) -> StopReason | None:
        return self._pager.plan.stop_reason

    @property
    def exhausted(self) -> bool:
        return self.stop_reason in EXHAUSTED_REASONS

    @property
    def pages(self) -> int:
        return self._pager.plan.pages

    @property
    def requests(self) -> int:
        return self._pager.requests
