"""Hooks: one way to observe every search and every HTTP attempt it makes.

Subclass ``Hooks``, override the methods you need, and pass instances to
``NumbersClient(hooks=[...])``. The client's own retry log and its OpenTelemetry tracing are
hooks too. Methods run synchronously in the searching task, in this order per page::

    search_started
      request_sent -> attempt_ended [-> retry_scheduled -> request_sent -> attempt_ended ...]
    search_finished

Keep them quick (no blocking I/O); an exception a hook raises propagates to the search. The
fields of the objects they receive hold no API key (no request headers, only ``extra_headers``
that hooks add, the trace context for instance), but an ``error`` among them keeps the engine's
``response``, whose request's headers do, as every error's does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

import attrs

if TYPE_CHECKING:
    import httpx

    from ._admission import Turn
    from ._pagination import StopReason
    from .errors import NumbersError

__all__ = ["AttemptInfo", "Hooks", "RetryInfo", "SearchInfo"]


@attrs.define(eq=False)
class SearchInfo:
    """One search (``search()`` or ``iter_search()``), the same object from start to finish:
    hooks may key their own state on it. The fields after ``deadline`` are final only in
    ``search_finished``."""

    country_code: str
    limit: int
    #: The search filters given (``features``, ``area_code`` ...), as sent.
    filters: dict[str, object]
    #: Seconds the whole search may take (``deadline=``), or None.
    deadline: float | None
    #: Attempts sent so far, retries included (a request resent at once because a stale
    #: keep-alive connection lost it is part of its attempt: see ``requests_sent``).
    attempts: int = 0
    #: Numbers returned to the caller (from a stream closed part-way, those it read).
    returned: int = 0
    #: Pages read.
    pages: int = 0
    #: Page requests made (a retried page counts once; one whose deadline passed before it
    #: was sent does not): the searches the API may bill.
    requests: int = 0
    #: True when the inventory ran out before ``limit`` numbers were found.
    exhausted: bool = False
    #: Why the search ended: "limit", "short_page", "no_progress", or None after an error.
    stop_reason: StopReason | None = None
    #: The error that ended the search, or None.
    error: BaseException | None = None
    # The event-loop time the search must end by, fixed when search() asks for its turn or
    # else when its first request starts.
    _deadline_at: float | None = attrs.field(default=None, init=False, repr=False)
    # search()'s turn to run, which its page fetches give back while they wait to retry
    # (iter_search() takes none).
    _turn: Turn | None = attrs.field(default=None, init=False, repr=False)

    def _start_clock(self, at: float) -> None:
        """The deadline counts from loop time ``at``."""
        if self.deadline is not None:
            self._deadline_at = at + self.deadline


@attrs.define(eq=False)
class AttemptInfo:
    """One HTTP request: ``request_sent`` receives it before it is sent (a hook may add
    ``extra_headers``), ``attempt_ended`` once its response was read, it failed or it was
    cancelled."""

    #: The search it belongs to.
    search: SearchInfo
    #: 1 for a page's first request, 2 for its first retry, ...
    number: int
    method: str
    #: The full URL (the key is never in it: it travels in a header).
    url: httpx.URL
    #: Headers added to this request, e.g. the trace context; hooks may add more.
    extra_headers: dict[str, str] = attrs.field(factory=dict)
    #: The response's status, or None when there was no response.
    status_code: int | None = None
    #: What the attempt failed with (a 502's ProviderError, a timeout ...), or None.
    error: NumbersError | None = None
    #: Seconds from sending to the end of the attempt.
    elapsed: float = 0.0
    #: True when it was cancelled before it ended (its caller's cancellation or timeout, the
    #: client closing): no status then, and no error.
    cancelled: bool = False


@attrs.frozen
class RetryInfo:
    """A retry about to wait ``delay`` seconds after ``attempt`` failed with ``error``."""

    attempt: AttemptInfo
    error: NumbersError
    delay: float
    #: What set the delay: "backoff" or "retry_after".
    reason: str
    max_retries: int


class Hooks:
    """Base class of hooks: every method does nothing until overridden. Methods are plain
    functions, called in the search's task (an ``async def`` one is refused by NumbersClient:
    it would never run)."""

    def search_started(self, search: SearchInfo) -> None:
        """A search sends its first request, or ends before any (refused a turn:
        ``search_finished`` follows at once with its ``error``)."""

    def request_sent(self, attempt: AttemptInfo) -> None:
        """An HTTP request is about to be sent."""

    def attempt_ended(self, attempt: AttemptInfo) -> None:
        """An HTTP request got its response (``status_code``), failed (``error``) or was
        cancelled (``cancelled``)."""

    def retry_scheduled(self, retry: RetryInfo) -> None:
        """A failed attempt will be retried after ``retry.delay`` seconds."""

    def search_finished(self, search: SearchInfo) -> None:
        """A search ended: with its result, its error, or closed early by its caller."""


EVENTS = ("search_started", "request_sent", "attempt_ended", "retry_scheduled", "search_finished")


def observer(hook: object, event: str) -> Callable[..., None] | None:
    """What ``hook`` has for ``event``, or None if it does not observe it: no callable of that
    name, or ``Hooks``' own no-op. Looked up on the hook itself, as it will be called (a
    ``Mock(spec=Hooks)`` or an object with the methods as attributes observes too)."""
    method = getattr(hook, event, None)
    if not callable(method) or getattr(method, "__func__", None) is getattr(Hooks, event):
        return None
    return cast(Callable[..., None], method)


class HookSet:
    """The bound methods hooks override, per event: events nobody observes cost nothing."""

    __slots__ = ("hooks", *EVENTS)

    def __init__(self, hooks: Iterable[object]) -> None:
        self.hooks = tuple(hooks)
        for event in EVENTS:
            bound = tuple(
                method for hook in self.hooks if (method := observer(hook, event)) is not None
            )
            setattr(self, event, bound)

    search_started: tuple[Callable[[SearchInfo], None], ...]
    request_sent: tuple[Callable[[AttemptInfo], None], ...]
    attempt_ended: tuple[Callable[[AttemptInfo], None], ...]
    retry_scheduled: tuple[Callable[[RetryInfo], None], ...]
    search_finished: tuple[Callable[[SearchInfo], None], ...]
