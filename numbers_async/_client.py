"""NumbersClient: the public entry point, one per service, shared by all its tasks."""

from __future__ import annotations

import asyncio
import inspect
import os
import weakref
from collections.abc import Iterable, Mapping
from contextlib import aclosing
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self, SupportsIndex, TypedDict, Unpack

import attrs
import httpx

if TYPE_CHECKING:
    import httpx2

from . import _validation as check
from ._auth import Secret, request_headers
from ._body import DEFAULT_MAX_RESPONSE_BYTES
from ._budget import RetryBudget, RetryLedger
from ._cycles import release_frames
from ._engine_logs import mask_in_engine_logs, mask_like
from ._filters import SearchFilters
from ._log import LogHooks
from ._observed import ObservedPager
from ._pagination import MIN_NEW_SHARE
from ._query import Query
from ._request import Requester
from ._results import SearchResult, SearchStream
from ._retry import RetryPolicy
from ._timeouts import Timeouts
from ._tracing import tracing_hooks
from ._transports import Transport, caller_http_client, environment_proxy, owned_http_client
from ._version import __version__
from .errors import ClientClosedError, InvalidRequestError, NumbersError, UnknownArgumentError
from .hooks import EVENTS, Hooks, HookSet, SearchInfo, observer

USER_AGENT = f"numbers-async/{__version__} python-httpx/{httpx.__version__}"


class ClientOptions(TypedDict, total=False):
    """What ``with_options()`` may change: the per-call settings (a different key, URL or
    transport needs a client, and a pool, of its own)."""

    timeout: float | Timeouts | httpx.Timeout
    max_retries: int
    retry_initial_delay: float
    retry_max_delay: float
    page_concurrency: int
    deadline: float | None


class NumbersClient:
    """Searches available phone numbers; safe to share among thousands of concurrent tasks.

    ``api_key`` and ``base_url`` fall back to ``NUMBERS_API_KEY`` and ``NUMBERS_BASE_URL``.
    ``timeout`` (seconds, or ``Timeouts(connect=, read=, pool=)``; an ``httpx.Timeout`` is
    accepted too) applies to every request. Pages that fail
    with 429, 502, 503, 504, a connection error or a timeout are retried up to ``max_retries``
    times (default 2) with full-jitter backoff from ``retry_initial_delay`` (0.5 s) up to
    ``retry_max_delay`` (8 s), or after the ``Retry-After`` the server asks for when longer.
    ``retry_policy`` sets all of these at once (and the test seams ``sleep`` and ``random``);
    the separate arguments, when given, override its fields.
    With ``http_client`` the caller owns the connection pool and closes it; otherwise the
    client owns one on ``transport`` ("httpx"; "httpx2" or "aiohttp", which need their extras:
    less CPU per search, README "Configuration"), closed by ``aclose()`` or ``async with``.

    ``page_concurrency`` bounds the requests one large search keeps in flight (default 5: a
    1,000-number search takes about five round trips instead of twenty, while one search never
    holds more than 5 of the pool's 100 connections; a value above the pool's connections is
    held to them, as more pages would only queue for a connection and time out there).
    ``min_new_share`` (0 to < 1, default 0.005) ends a search whose recent pages bring fewer
    new numbers than that share: the inventory is then taken as exhausted (README,
    "Pagination by limit").

    ``max_response_bytes`` (default 1 MiB, None for no limit) bounds one response's decoded
    body: beyond it the attempt fails with ResponseValidationError at once, the rest unread
    and the connection closed, so a huge or compressed body costs neither memory nor loop time.

    ``deadline`` (seconds, default None: no bound) bounds each whole search, every page,
    attempt and backoff included (and ``search()``'s wait for its turn): past it the search
    raises ``APITimeoutError``, and a retry whose wait would end past it is not attempted.
    ``retry_budget`` caps retries client-wide (``RetryBudget``; None: no cap). ``hooks``
    observe every search and attempt (``numbers_async.hooks``). ``with_options()`` derives a
    client with other per-call settings sharing this one's pool, budget and hooks.
    """

    __slots__ = (
        "__weakref__",
        "_deadline",
        "_derived",
        "_min_new_share",
        "_owns_http",
        "_page_concurrency",
        "_requester",
        "_root",
    )

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | Timeouts | httpx.Timeout = 30.0,
        max_retries: int | None = None,
        retry_initial_delay: float | None = None,
        retry_max_delay: float | None = None,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        transport: Transport = "httpx",
        page_concurrency: int = 5,
        min_new_share: float = MIN_NEW_SHARE,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        deadline: float | None = None,
        retry_budget: RetryBudget | None = RetryBudget(),  # noqa: B008 (frozen, never mutated)
        hooks: Iterable[Hooks] = (),
    ) -> None:
        key = Secret(api_key if api_key is not None else os.environ.get("NUMBERS_API_KEY"))
        del api_key  # from here the key is only in ``key``, masked in a traceback's locals
        check.api_key(key)
        url = check.base_url(
            base_url if base_url is not None else os.environ.get("NUMBERS_BASE_URL")
        )
        policy = _retry_policy(retry_policy, max_retries, retry_initial_delay, retry_max_delay)
        request_timeout = check.timeout(timeout)
        body_limit = check.max_response_bytes(max_response_bytes)
        self._page_concurrency = check.int_at_least("page_concurrency", page_concurrency, 1)
        self._min_new_share = check.share("min_new_share", min_new_share)
        self._deadline = check.deadline(deadline)
        self._derived = False
        self._root: weakref.ref[Requester] | None = None  # a derived client's, see aclose
        if retry_budget is not None and not isinstance(retry_budget, RetryBudget):
            raise InvalidRequestError(
                "retry_budget",
                f"retry_budget must be a RetryBudget or None, got {check.shown(retry_budget)}",
            )
        hook_set = HookSet([*tracing_hooks(), LogHooks(), *_check_hooks(hooks)])
        headers = request_headers(key, USER_AGENT)
        # An owned pool carries headers and timeout itself (cheaper than merging them into every
        # request); a caller's client gets them per request and is never modified.
        options: dict[str, object] = {}
        self._owns_http = http_client is None
        if http_client is None:
            proxy = environment_proxy(url)
            http_client = owned_http_client(transport, request_timeout, headers, proxy)
        elif transport != "httpx":
            raise InvalidRequestError(
                "transport", "pass transport= or http_client=, not both: http_client has its own"
            )
        else:
            http_client = caller_http_client(http_client)
            options = {"headers": headers, "timeout": request_timeout}
        self._requester = Requester(
            http=http_client,
            base_url=url,
            options=options,
            policy=policy,
            max_response_bytes=body_limit,
            budget=None if retry_budget is None else RetryLedger(retry_budget),
            hooks=hook_set,
            attempt_limit=check.attempt_limit(timeout),
        )
        mask_in_engine_logs(key, self._requester)

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        """Refused, for pickle, copy and deepcopy alike: a copy would share (or lose) this
        client's pool, its loop and its searches in flight."""
        raise TypeError(
            "a NumbersClient cannot be pickled or copied: create one in each process and event "
            "loop (with_options() derives one sharing this one's pool)"
        )

    def __repr__(self) -> str:
        # Safe on a client whose constructor failed half-way: a traceback's locals show it.
        requester = getattr(self, "_requester", None)
        if requester is None:
            return "<NumbersClient (not constructed)>"
        return f"<NumbersClient base_url={requester.base_url!r}>"

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry settings in effect."""
        return self._requester.policy

    @property
    def page_concurrency(self) -> int:
        """The page requests one ``search()`` keeps in flight."""
        return self._page_concurrency

    @property
    def deadline(self) -> float | None:
        """Seconds each whole search may take, or None."""
        return self._deadline

    @property
    def retry_budget(self) -> RetryBudget | None:
        """The retry budget shared with derived clients, or None."""
        budget = self._requester.budget
        return None if budget is None else budget.budget

    def with_options(self, **options: Unpack[ClientOptions]) -> NumbersClient:
        """A client with other per-call settings (``timeout``, ``max_retries``,
        ``retry_initial_delay``, ``retry_max_delay``, ``page_concurrency``, ``deadline``),
        sharing this one's connection pool, retry budget and hooks: cheap enough per call.

        Closing the derived client ends its own searches and leaves the pool open; closing
        this (original) client closes the pool and ends the derived clients' searches too.
        Should this client be dropped unclosed, the last of its derived clients to close
        closes the pool it owned.
        An invalid option raises ``InvalidRequestError`` (None too, but for ``deadline``, where
        it means no deadline), an unknown one ``UnknownArgumentError`` (also a TypeError).
        """
        unknown = sorted(set(options) - set(ClientOptions.__annotations__))
        if unknown:
            raise UnknownArgumentError(
                unknown[0],
                f"with_options() cannot change {unknown[0]!r}: it takes "
                f"{', '.join(ClientOptions.__annotations__)} (another key, URL or transport "
                "needs its own NumbersClient)",
            )
        for name, value in options.items():
            if value is None and name != "deadline":  # None would keep this client's setting
                raise InvalidRequestError(
                    name, f"with_options({name}=None): leave {name} out to keep this client's"
                )
        if self.is_closed:
            raise ClientClosedError("the NumbersClient is closed")
        parent = self._requester
        policy = _retry_policy(
            parent.policy,
            options.get("max_retries"),
            options.get("retry_initial_delay"),
            options.get("retry_max_delay"),
        )
        request_options = dict(parent.options)
        if "timeout" in options:
            request_options["timeout"] = check.timeout(options["timeout"])
        derived = object.__new__(NumbersClient)
        derived._page_concurrency = check.int_at_least(
            "page_concurrency", options.get("page_concurrency", self._page_concurrency), 1
        )
        derived._deadline = check.deadline(options.get("deadline", self._deadline))
        derived._min_new_share = self._min_new_share
        derived._owns_http = False
        derived._derived = True
        # The original client's requester, when it owns the pool: should it be dropped
        # unclosed (with any stream of its searches), the last of its derived clients to close
        # closes the pool.
        derived._root = (
            self._root
            if self._derived
            else weakref.ref(self._requester)
            if self._owns_http
            else None
        )
        derived._requester = parent.derive(policy, request_options)
        mask_like(derived._requester, parent)
        if "timeout" in options:
            derived._requester.attempt_limit = check.attempt_limit(options["timeout"])
        return derived

    @property
    def requests_sent(self) -> int:
        """HTTP requests this client has sent, retries included, and requests resent at once
        because a stale keep-alive connection lost them (for metrics and tests). Counted as each
        attempt starts: one cancelled before a connection took it (its search had ended) counts
        though the server never saw it."""
        return self._requester.requests_sent

    @property
    def is_closed(self) -> bool:
        """True once ``aclose()`` has run."""
        return self._requester.closed

    async def search(
        self,
        country_code: str,
        *,
        limit: int = 10,
        extra_query: Mapping[str, str | int | float | bool] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **filters: Unpack[SearchFilters],
    ) -> SearchResult:
        """Up to ``limit`` distinct available numbers, in server order, with up to
        ``page_concurrency`` page requests in flight.

        Fewer come back only when the inventory runs out: the result (a ``list``) then has
        ``exhausted`` True and ``stop_reason`` saying which rule ended it. Raises a
        ``NumbersError`` subclass; an error after the first page carries the numbers gathered
        so far as ``partial_numbers``: the pages before the one that failed, then those
        received after it (in flight beside it), in request order.

        Filters (``SearchFilters``): ``features`` (names every number must have, a list or a
        comma-separated string) and ``area_code``, plus any other query parameter of the spec
        the facade exposes; the spec's constraints check each before any request.
        ``extra_query`` adds query parameters the spec does not describe yet, ``extra_headers``
        headers (never the one carrying the key); both are sent on every page.
        """
        requester = self._requester
        loop = asyncio.get_running_loop()
        asked = loop.time()  # the ``deadline``'s clock starts when the search is asked
        entry = requester.enter(loop)
        if entry is not None:
            await entry
        # Checked before waiting for a turn: a bad argument fails at once, named, however busy
        # the client (not with the pool timeout's APITimeoutError, seconds later). Held as a
        # plain tuple while waiting, which the garbage collector stops tracking.
        checked = Query.checked(country_code, limit, filters, extra_query, extra_headers)
        waiter = requester.ask_turn(asked, self._deadline)
        if waiter is not None:  # awaited in this frame: no coroutine of ours while waiting
            task = asyncio.current_task()
            assert task is not None
            try:
                await waiter
            except BaseException as error:
                try:
                    requester.turn_refused(waiter, error, self._deadline, task)
                except NumbersError as refused:  # no turn came: the hooks see it all the same
                    self._pager(Query(*checked), 1).refused(refused)
                    raise
                raise
            finally:
                requester.turn_waited(task)
        turn = requester.turn()
        try:
            pager = self._pager(Query(*checked), self._page_concurrency)
            pager.search._start_clock(asked)
            pager.search._turn = turn
            numbers = SearchResult()
            try:
                async with aclosing(pager.pages()) as pages:
                    async for page in pages:
                        numbers.extend(page)
            except BaseException as exc:
                if isinstance(exc, NumbersError):
                    exc.partial_numbers = [*numbers, *pager.stranded]
                release_frames(exc)
                del pager  # this frame stays in the traceback: it must not lead back to the error
                raise
            return numbers._finish(pager)
        finally:
            turn.end()

    def iter_search(
        self,
        country_code: str,
        *,
        limit: int = 10,
        page_concurrency: int = 1,
        extra_query: Mapping[str, str | int | float | bool] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **filters: Unpack[SearchFilters],
    ) -> SearchStream:
        """The numbers of ``search()``, yielded as each page arrives; arguments are checked
        here, at the call.

        Lazy: no request before iteration starts. With the default ``page_concurrency=1`` it
        reads one page at a time, so none is sent after the caller stops iterating (an
        abandoned stream is not closed at once, and a page read ahead would go on, retries
        included). A larger ``page_concurrency`` keeps that many pages in flight like
        ``search()``: then consume the stream to its end or ``aclose()`` it (``async with
        contextlib.aclosing(client.iter_search(...))``).

        Memory stays flat however many numbers stream by (only the phone numbers seen are kept,
        for de-duplication), so errors raised here carry in ``partial_numbers`` only numbers
        never yielded: those of pages received after the page that failed (read ahead with
        ``page_concurrency`` > 1); the caller already holds the rest. Once the stream ends,
        its ``exhausted`` and ``stop_reason`` say why, as on ``search()``'s result.
        """
        window = check.int_at_least("page_concurrency", page_concurrency, 1)
        query = Query(*Query.checked(country_code, limit, filters, extra_query, extra_headers))
        return SearchStream(self._pager(query, window))

    def _pager(self, query: Query, window: int) -> ObservedPager:
        """The pager of one search, its arguments already validated."""
        search = SearchInfo(query.country_code, query.limit, dict(query.filters), self._deadline)
        requester = self._requester
        fetch = partial(requester.fetch, search=search)
        # Pages beyond the pool's connections would only queue for one, each bounded by the
        # pool timeout: a search with page_concurrency=1000 on 100 connections failed itself.
        window = min(window, requester.connections)
        return ObservedPager(fetch, query, window, self._min_new_share, search, requester.hooks)

    async def aclose(self) -> None:
        """End this client's running searches with ClientClosedError. On the original client
        (not one from ``with_options``), also those of its derived clients, and close the
        connection pool it owns. Closing a closed client does nothing; otherwise only on the
        event loop the client belongs to (the one it first searched on): elsewhere
        ClientClosedError, the client left as it was. In a fork's child, a client that searched
        before the fork is only marked closed: its pool is the parent's."""
        requester = self._requester
        if requester.closed and (not self._owns_http or requester.http.is_closed):
            return
        forked = requester.forked_away()  # in a fork's child: closed, the parent's pool left be
        if not forked:
            requester.check_loop(asyncio.get_running_loop(), "aclose()", bind=False)
        self._requester.close()
        if not self._derived:
            for derived in list(self._requester.family):
                derived.close()
        if forked:
            return
        try:
            await self._requester.settle(cancel=self._owns_http, alone=self._derived)
        finally:  # even when aclose() itself is cancelled (a TaskGroup's sibling, wait_for)
            if self._owns_http or self._last_of_an_orphaned_family():
                await self._requester.http.aclose()

    def _last_of_an_orphaned_family(self) -> bool:
        """Whether this derived client is the last open one of an original client that owned
        its pool and was dropped unclosed (``async with NumbersClient(...).with_options(...)``):
        nothing else could close that pool (its connections stayed open, silently on httpx).
        The original's requester, not the client, must be gone: a stream of its searches
        holds it (and uses the pool) after the client is dropped."""
        root = self._root
        if root is None or root() is not None:
            return False
        return all(requester.closed for requester in self._requester.family)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _retry_policy(
    policy: RetryPolicy | None,
    max_retries: object,
    initial_delay: object,
    max_delay: object,
) -> RetryPolicy:
    """``policy`` (or the default one) with the retry arguments that were given applied."""
    if policy is None:
        policy = RetryPolicy()
    elif not isinstance(policy, RetryPolicy):
        raise InvalidRequestError(
            "retry_policy", f"retry_policy must be a RetryPolicy, got {check.shown(policy)}"
        )
    changes: dict[str, Any] = {}
    if max_retries is not None:
        changes["max_retries"] = check.int_at_least("max_retries", max_retries, 0)
    if initial_delay is not None:
        changes["initial_delay"] = check.non_negative("retry_initial_delay", initial_delay)
    if max_delay is not None:
        changes["max_delay"] = check.non_negative("retry_max_delay", max_delay)
    return attrs.evolve(policy, **changes) if changes else policy


def _check_hooks(hooks: object) -> list[object]:
    """The hooks given, each an object with at least one ``Hooks`` method."""
    if isinstance(hooks, str | bytes) or not isinstance(hooks, Iterable):
        raise InvalidRequestError(
            "hooks", f"hooks must be a list of Hooks, got {check.shown(hooks)}"
        )
    checked = list(hooks)
    for hook in checked:
        if isinstance(hook, type):  # its methods would be called unbound, without self
            raise InvalidRequestError(
                "hooks", f"hooks takes instances: {hook.__name__}(), not the class {hook.__name__}"
            )
        if not any(observer(hook, event) is not None for event in EVENTS):
            raise InvalidRequestError(
                "hooks",
                f"each hook must implement a numbers_async.hooks.Hooks method: {check.shown(hook)}",
            )
        for event in EVENTS:  # called, never awaited: its body would never run
            method = observer(hook, event)
            if inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method):
                raise InvalidRequestError(
                    "hooks",
                    f"hook methods are called, not awaited: {type(hook).__name__}.{event} is "
                    "async (start a task from it to await something)",
                )
    return checked
