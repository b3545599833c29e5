"""Pagination-by-limit, the I/O: keeps a search's page requests in flight and hands their new
numbers over in request order. What to ask and when to stop is decided by ``PagePlan``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._pagination import (
    Deduplicator,
    PagePlan,
    continuation_page_size,
    first_page_size,
    pages_wanted_in_flight,
)
from .errors import APITimeoutError, NumbersError

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

    from ._query import Query

Fetch = Callable[[dict[str, Any]], Awaitable[list["AvailableNumber"]]]


class Pager:
    """Runs one search: the first page alone (a small or empty inventory then costs one
    request), then up to ``window`` full-page requests in flight, never more than the numbers
    still missing could fill. Pages still in flight when the search stops are cancelled."""

    __slots__ = ("_fetch", "_query", "_window", "failing", "plan", "requests", "stranded")

    def __init__(self, fetch: Fetch, query: Query, window: int, min_new_share: float) -> None:
        self._fetch = fetch
        self._query = query
        self._window = window
        self.plan = PagePlan(query.limit, min_new_share)
        self.requests = 0  # page requests started, retries of a page not counted
        # The new numbers of pages received after the one whose failure ended the search (a
        # stalled page's deadline, say): never yielded, the error still carries them.
        self.stranded: list[AvailableNumber] = []
        self.failing = False  # an error is on its way out of pages(), its cleanup running

    async def _request(self, size: int) -> list[AvailableNumber]:
        self.requests += 1  # counted when it starts: a task cancelled before that sent nothing
        try:
            return await self._fetch(self._query.request(size))
        except APITimeoutError as exc:
            if exc.attempts == 0:  # its deadline passed before it was sent: nothing to bill
                self.requests -= 1
            raise

    async def pages(self) -> AsyncGenerator[list[AvailableNumber], None]:
        """The numbers each page adds to the result (never empty), in request order."""
        plan, seen = self.plan, Deduplicator()
        pending: deque[asyncio.Future[list[AvailableNumber]]] = deque()
        asked = first_page_size(plan.limit)
        try:
            page = await self._request(asked)
            while True:
                new, distinct = seen.new_numbers(page)
                kept = new[: plan.missing]
                stop = plan.record(asked, len(page), distinct, len(new), len(kept))
                if kept:
                    yield kept
                if stop is not None:
                    return
                asked = continuation_page_size()
                if self._window == 1:  # no task: nothing runs ahead of the caller
                    page = await self._request(asked)
                    continue
                while len(pending) < pages_wanted_in_flight(plan.missing, self._window):
                    pending.append(asyncio.ensure_future(self._request(asked)))
                page = await pending.popleft()
        except NumbersError:
            self.failing = True
            self.stranded = _received(pending, seen)[: plan.missing]
            raise
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _received(
    pending: deque[asyncio.Future[list[AvailableNumber]]], seen: Deduplicator
) -> list[AvailableNumber]:
    """The new numbers of the pages among ``pending`` already received, in request order."""
    numbers: list[AvailableNumber] = []
    for future in pending:
        if future.done() and not future.cancelled() and future.exception() is None:
            numbers += seen.new_numbers(future.result())[0]
    return numbers
