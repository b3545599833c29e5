"""A search as the hooks see it: started, then finished with its pages, requests and outcome."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING

from ._pages import Fetch, Pager
from ._pagination import EXHAUSTED_REASONS

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

    from ._query import Query
    from .hooks import HookSet, SearchInfo


class ObservedPager(Pager):
    """A Pager that tells the hooks when its search starts and how it finished."""

    __slots__ = ("_hooks", "search")

    def __init__(
        self,
        fetch: Fetch,
        query: Query,
        window: int,
        min_new_share: float,
        search: SearchInfo,
        hooks: HookSet,
    ) -> None:
        super().__init__(fetch, query, window, min_new_share)
        self.search = search
        self._hooks = hooks

    def refused(self, error: BaseException) -> None:
        """The search ended with ``error`` before its first request (it waited for its turn
        past the pool timeout or its deadline, or its client closed): the hooks see it start
        and finish, as an operator counting failed searches must."""
        self._started()
        self.search.error = error
        self._finished()

    async def pages(self) -> AsyncGenerator[list[AvailableNumber], None]:
        search = self.search
        self._started()
        try:
            async with aclosing(super().pages()) as pages:
                async for page in pages:
                    search.returned += len(page)
                    yield page
        except GeneratorExit:  # the caller stopped iterating: not an error
            raise
        except BaseException as exc:
            search.error = exc
            search.returned += len(self.stranded)  # the error carries them to the caller
            raise
        finally:
            self._finished()

    def _started(self) -> None:
        for started in self._hooks.search_started:
            started(self.search)

    def _finished(self) -> None:
        """The search's outcome recorded on its SearchInfo, and told to the hooks."""
        search = self.search
        search.pages = self.plan.pages
        search.requests = self.requests
        search.stop_reason = self.plan.stop_reason
        search.exhausted = search.stop_reason in EXHAUSTED_REASONS
        for finished in self._hooks.search_finished:
            finished(search)
