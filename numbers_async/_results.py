"""What searches return: a list that says why the search ended, and a stream that does too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from numbers_api.models import AvailableNumber

from ._cycles import release_frames
from ._pagination import EXHAUSTED_REASONS, StopReason
from .errors import NumbersError

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


class _Progress:
    """A stream's pager, shared with the generator reading it, which lets it go once the
    search failed: held by the caller's stream, the pager led back to the error (its
    SearchInfo holds it) whose traceback holds the caller's frame (_cycles.py). What the
    stream reports of it stays: the plan, and the requests sent."""

    __slots__ = (
        "closing",
        "consumer",
        "failure",
        "left",
        "pager",
        "plan",
        "requests",
    )

    def __init__(self, pager: ObservedPager) -> None:
        self.pager: ObservedPager | None = pager
        self.plan = pager.plan
        self.requests = 0
        # The task waiting in the stream for a page (None between pages): the one aclose()
        # from another task interrupts, as its own step cannot be closed from there.
        self.consumer: asyncio.Task[Any] | None = None
        self.closing = False  # aclose() interrupted it: its CancelledError ends the stream
        self.left: asyncio.Future[None] | None = None  # done once the consumer left the stream
        self.failure: str | None = None  # the class of the error that ended it, if one did

    def interrupt(self, consumer: asyncio.Task[Any]) -> asyncio.Future[None]:
        """Cancel ``consumer``'s wait in the stream (aclose() from another task); a future done
        once it has left the stream. Not while the search's error is on its way out (its
        pages being cancelled): the cancellation would have replaced it, and the stream ended
        quietly, the error lost."""
        self.left = asyncio.get_running_loop().create_future()
        if self.pager is None or not self.pager.failing:
            self.closing = True
            consumer.cancel()
        return self.left

    def interrupted(self) -> bool:
        """Whether the CancelledError being handled in the consumer is aclose()'s alone (then
        taken back, as asyncio.timeout takes its own), not also a cancellation of the task: any
        other one pending counts as such, even one a task swallowed earlier without the
        ``uncancel()`` asyncio asks of it (a cancellation is never taken for aclose()'s)."""
        task = asyncio.current_task()
        return self.closing and task is not None and task.uncancel() == 0

    def leave(self) -> None:
        """The consumer leaves the stream: it holds no task, and aclose() may return."""
        self.consumer = None
        if self.left is not None and not self.left.done():
            self.left.set_result(None)

    def sent(self) -> int:
        return self.requests if self.pager is None else self.pager.requests

    def failed(self, error: BaseException) -> None:
        assert self.pager is not None
        self.requests, self.pager = self.pager.requests, None
        self.failure = type(error).__name__


class SearchStream(AsyncIterator[AvailableNumber]):
    """``iter_search()``'s numbers, yielded as pages arrive; ``aclose()`` stops it at once.

    ``stop_reason``, ``exhausted``, ``pages`` and ``requests`` mean what they mean on
    ``SearchResult``; ``stop_reason`` is None (and ``exhausted`` False) until the stream ends.
    """

    __slots__ = ("_numbers", "_progress")

    def __init__(self, pager: ObservedPager) -> None:
        self._progress = _Progress(pager)
        self._numbers = self._flatten(self._progress)  # runs nothing until the first __anext__

    @staticmethod
    async def _flatten(progress: _Progress) -> AsyncGenerator[AvailableNumber, None]:
        pager = progress.pager
        assert pager is not None
        try:
            async with aclosing(pager.pages()) as pages:
                progress.consumer = asyncio.current_task()
                async for page in pages:
                    progress.consumer = None
                    unread = len(page)
                    try:
                        for number in page:
                            unread -= 1  # once yielded, the caller has it
                            yield number
                    finally:  # closed part-way through a page: its rest never reached the caller
                        if unread:
                            pager.search.returned -= unread
                    progress.consumer = asyncio.current_task()  # it waits for the next page
        except GeneratorExit:  # closed by its caller: nothing raised to anyone
            raise
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError) and progress.interrupted():
                return  # aclose() from another task: the stream ends, its pages cancelled
            if isinstance(exc, NumbersError):  # pages received after the failed one
                exc.partial_numbers = list(pager.stranded)
            release_frames(exc)
            progress.failed(exc)
            del pager  # this frame stays in the traceback: it must not lead back to the error
            raise
        finally:  # the stream must not keep its last reader's task (nor the task the stream)
            progress.leave()

    def __aiter__(self) -> SearchStream:
        return self

    def __anext__(self) -> Awaitable[AvailableNumber]:
        failure = self._progress.failure
        if failure is not None:  # not StopAsyncIteration: that would read as a search done
            raise NumbersError(
                f"this iter_search stream already ended with {failure} (a step of it cancelled,"
                " by a timeout around it say, ends it too): start another iter_search"
            )
        # The generator's own step, no coroutine frame around it to keep (_cycles.py).
        return anext(self._numbers)

    async def aclose(self) -> None:
        """Stop the search: cancel its requests in flight; no request is sent after this.
        From another task than the one waiting in the stream for a page, that wait is
        interrupted (its requests cancelled) and the stream ends there, before this returns:
        its ``async for`` finishes as if the numbers had run out."""
        progress = self._progress
        consumer = progress.consumer
        running = self._numbers.ag_running  # type: ignore[attr-defined]
        if running and consumer not in (None, asyncio.current_task()):
            # Shielded: closers share the future, and one cancelled must not cancel it for all.
            await asyncio.shield(progress.left or progress.interrupt(consumer))
            return
        await self._numbers.aclose()

    @property
    def stop_reason(self) -> StopReason | None:
        return self._progress.plan.stop_reason

    @property
    def exhausted(self) -> bool:
        return self.stop_reason in EXHAUSTED_REASONS

    @property
    def pages(self) -> int:
        return self._progress.plan.pages

    @property
    def requests(self) -> int:
        return self._progress.sent()
