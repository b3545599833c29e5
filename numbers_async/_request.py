"""The one request loop: a single page, with the retry policy applied. Nothing else retries."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import re
import ssl
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

import httpx

from ._admission import Admission, Turn
from ._auth import mask_key
from ._body import DEFAULT_MAX_RESPONSE_BYTES, BodyTooLarge, read_limited
from ._budget import RetryLedger
from ._cancel import POOL_TIMED_OUT, DetachedAttempts, caller_httpx2_slots, queued_pool
from ._cycles import own_chain, release_frames
from ._framing import BytesPastTheEnd
from ._gate import EntryGate
from ._parse import InvalidBody, parse_numbers
from ._pool_wait import attempt_starts, note_sent, was_cut_off
from ._retry import RetryPolicy, decide, explain, is_retryable
from ._stale import MAX_RESENDS, RESENDING, StaleConnection
from ._stale import send as send_watched
from ._transports import POOL_SIZE
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CertificateVerificationError,
    ClientClosedError,
    KeyMask,
    NumbersError,
    ProxyError,
    ResponseValidationError,
    error_from_response,
)
from .hooks import AttemptInfo, HookSet, RetryInfo, SearchInfo

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

_URL_CACHE_SIZE = 1024
# Searches running at once per connection of the pool. One keeps every connection busy: a search
# asleep before a retry gives its turn back (_admission.Turn), and a search runs its pages on as
# many connections as its page_concurrency. Each search running beyond the connections waits in
# the pool holding its request and the engine's state (~58 objects): with 4 per connection, W6's
# 300 such made the heap each full garbage collection walks 124,000-137,000 objects instead of
# 108,000-111,000, for a crowd wall no shorter (5,000 searches against a 100 ms server).
RUNNING_PER_CONNECTION = 1


_forks = 0  # times this process began as a fork's child (pooled sockets are then the parent's)
UNWIND_S = 1.0  # how long aclose() lets the searches it interrupted unwind in the pool
_BINDING = threading.Lock()  # held while a client's first loop is bound (Requester.check_loop)


def _count_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # Unix
    os.register_at_fork(after_in_child=_count_fork)


class _Home:
    """The event loop a client and the clients derived from it belong to: the first any of
    them searched on (derived before that search, they must still follow it); and the process,
    counted in forks, they were made in."""

    __slots__ = ("forks", "loop")

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.forks = _forks


class Requester:
    """Sends page requests for one client: shared by all its searches, safe under concurrency.

    ``budget`` and ``hooks`` are shared with the requesters of clients derived by
    ``with_options``; ``http`` too, unless ``owns_http``.
    """

    __slots__ = (
        "__weakref__",
        "_admission",
        "_detached",
        "_gate",
        "_home",
        "_interrupted",
        "_left",
        "_running",
        "_urls",
        "attempt_limit",
        "base_url",
        "budget",
        "closed",
        "connections",
        "family",
        "hooks",
        "http",
        "max_response_bytes",
        "options",
        "policy",
        "requests_sent",
        "running_limit",
    )

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        options: dict[str, Any],
        policy: RetryPolicy,
        budget: RetryLedger | None,
        hooks: HookSet,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        attempt_limit: float | None = None,
    ) -> None:
        self.http = http
        self.max_response_bytes = max_response_bytes
        # Seconds one whole attempt may take: the engines bound each phase (each read) alone,
        # so a server dripping a byte at a time would otherwise hold an attempt for ever.
        self.attempt_limit = attempt_limit
        self.base_url = base_url
        self.options = options  # per-request headers/timeout; empty when set on ``http`` itself
        self.policy = policy
        self.budget = budget
        self.hooks = hooks
        self.family: weakref.WeakSet[Requester] = weakref.WeakSet()  # derived ones
        self.closed = False
        self.requests_sent = 0
        self._running: set[asyncio.Task[Any]] = set()  # tasks inside fetch()
        self._interrupted: set[asyncio.Task[Any]] = set()  # ... that close() cancelled
        self._left: asyncio.Future[None] | None = None  # done once those all left (settle)
        self._home = _Home()  # the loop its pool belongs to, shared with its derived ones
        self._urls: dict[tuple[object, ...], httpx.URL] = {}
        # Attempts queue in front of httpcore's pools, and on httpcore 1.x's run detached from
        # their caller (see _cancel.py).
        queued = queued_pool(http)
        self._detached = None if queued is None else DetachedAttempts(queued[0], detach=queued[1])
        self._gate = EntryGate()  # searches and page fetches start in slices (see _gate.py)
        # Requests the pool serves at once (a pool we cannot read: the owned pools' size).
        if queued is not None:
            self.connections = queued[0]
        else:
            self.connections = caller_httpx2_slots(http) or POOL_SIZE
        self.running_limit = RUNNING_PER_CONNECTION * self.connections  # searches at once
        self._admission = Admission(self.running_limit)

    def derive(self, policy: RetryPolicy, options: dict[str, Any]) -> Requester:
        """A requester with other settings sharing this one's pool, budget, hooks and family."""
        derived = Requester(
            http=self.http,
            base_url=self.base_url,
            options=options,
            policy=policy,
            max_response_bytes=self.max_response_bytes,
            budget=self.budget,
            hooks=self.hooks,
            attempt_limit=self.attempt_limit,
        )
        derived.family = self.family
        derived._urls = self._urls
        derived._detached = self._detached  # one queue in front of the one pool
        derived._gate = self._gate
        derived._admission = self._admission
        derived.connections = self.connections
        derived.running_limit = self.running_limit
        derived._home = self._home  # one pool, one loop: whichever searches first binds all
        self.family.add(derived)
        return derived

    def enter(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None] | None:
        """None if the entry gate lets a search through now (searches start in slices,
        _gate.py), else a future to await in the search's own frame first. Not a coroutine: 5,000
        searches started at once each held one while they waited at the gate (benchmarks W6)."""
        self.check_loop(loop)  # before the gate: its waiters belong to this client's loop
        return self._gate.ask()

    def ask_turn(self, asked: float, deadline: float | None) -> asyncio.Future[None] | None:
        """None with the turn of a search ``enter()`` let in at loop time ``asked`` taken, else
        a future to await in the search's own frame, then ``turn_waited`` (``turn_refused``
        first if the await raised); the search then runs on ``turn()``, which it ends when it
        ends. At most ``running_limit`` run at once: one waiting holds a task and a future, one
        running its pages, requests and the engine's state (50-120 objects), and 5,000 searches
        at once all running made each full garbage collection walk 230,000-420,000 objects and
        stall the event loop up to 0.38 s. A search waits (_admission.py) no longer than the
        pool timeout, as a request does for a connection, nor past its deadline.

        Not a coroutine: a waiting search holds its task, its coroutine and checked arguments
        and this future, no frame of ours (5,000 such are what W6's full collections walk most;
        a coroutine here was one object in twelve)."""
        loop = asyncio.get_running_loop()
        self.check_loop(loop)  # before a turn is asked: nothing may raise between ask and await
        if self.closed:
            raise ClientClosedError("the NumbersClient is closed")
        waiter = self._admission.ask(_turn_expiry(asked, deadline, self._pool_timeout()))
        if waiter is not None:
            self._interruptible(loop)
        return waiter

    def turn_refused(
        self,
        waiter: asyncio.Future[None],
        error: BaseException,
        deadline: float | None,
        task: asyncio.Task[Any],
    ) -> None:
        """``await waiter`` (from ``ask_turn``) in ``task`` raised ``error``: raise what the
        search raises instead (ClientClosedError if close() cancelled it, APITimeoutError if the
        wait timed out), or return for ``error`` itself."""
        if isinstance(error, asyncio.CancelledError):
            self._admission.abandon(waiter)
            self._raise_if_closed(task)
        elif isinstance(error, TimeoutError):
            pool = self._pool_timeout()
            by_deadline = _turn_wait(deadline, pool) == deadline
            raise self._no_turn(deadline, by_deadline=by_deadline) from None

    def turn_waited(self, task: asyncio.Task[Any]) -> None:
        """The wait ``ask_turn`` gave ``task`` ended, whatever its outcome (its coroutine may
        be closed by the garbage collector, outside any loop: no lookup of the task here)."""
        self._done(task)

    def turn(self) -> Turn:
        """The turn of a search ``ask_turn()`` let run; ``Turn.end()`` when the search ends."""
        return Turn(self._admission)

    def _no_turn(self, deadline: float | None, *, by_deadline: bool) -> APITimeoutError:
        """The error of a search that waited for its turn past its deadline or the pool
        timeout."""
        busy = f"the client was running as many searches as it allows ({self.running_limit})"
        if by_deadline:
            return APITimeoutError(
                f"the search's deadline ({deadline:g} s) passed while it waited for its turn: "
                f"{busy}",
                attempts=0,
            )
        return APITimeoutError(f"no search could start within the pool timeout: {busy}", attempts=0)

    def _pool_timeout(self) -> float | None:
        """Seconds a request may wait for a connection: this client's, else its pool's."""
        timeout: httpx.Timeout = self.options.get("timeout") or self.http.timeout
        return timeout.pool

    def url(self, request: dict[str, Any]) -> httpx.URL:
        """The full URL of ``request``, cached: parsing it is a third of httpx's work per
        request, and a service repeats the same few queries."""
        key = (request["url"], *request["params"].items())
        url = self._urls.get(key)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = httpx.URL(self.base_url + request["url"], params=request["params"])
            self._urls[key] = url
        return url

    def close(self) -> None:
        """Refuse new requests and interrupt every request or backoff in progress: each ends
        with ClientClosedError at once (a request waiting for a pool slot, or a retry waiting
        out Retry-After, would otherwise wait out its timeout)."""
        self.closed = True
        for task in self._running - self._interrupted:
            self._interrupted.add(task)
            task.cancel()

    async def settle(self, *, cancel: bool, alone: bool) -> None:
        """Wait for the detached attempts close() left behind (this requester's ``alone``, else
        its family's too), cancelling them first when the pool closes next (``cancel``): then
        none can leak into it. Before the pool closes, the searches close() interrupted also
        get UNWIND_S at most to leave it: aiohttp closes the socket of a CONNECT in progress as
        its search unwinds, and nothing once its connector is closed (they stayed open)."""
        if self._detached is not None:
            await self._detached.settle(cancel=cancel, owner=self if alone else None)
        if not cancel:
            return
        current = asyncio.current_task()
        family = [self] if alone else [self, *self.family]
        left = [
            requester._left_future()
            for requester in family
            if requester._interrupted and current not in requester._interrupted
        ]
        if left:
            await asyncio.wait(left, timeout=UNWIND_S)

    def _left_future(self) -> asyncio.Future[None]:
        """Done when every search close() interrupted has left fetch() (``_done``)."""
        if self._left is None:
            self._left = asyncio.get_running_loop().create_future()
        return self._left

    def forked_away(self) -> bool:
        """Whether this process is a fork's child and the client searched before the fork: its
        pool is the parent's, to be closed there."""
        return self._home.forks != _forks and self._home.loop is not None

    def check_loop(
        self, loop: asyncio.AbstractEventLoop, what: str = "a search", *, bind: bool = True
    ) -> None:
        """Refuse a second event loop: pooled connections belong to the loop that opened them,
        and every engine fails differently on another (aiohttp under uvloop aborts; closing
        them from another loop raised RuntimeError and left their sockets open). The first
        loop seen becomes the client's when ``bind``. In a fork's child a client that searched
        before the fork is refused, whatever the loop: its pooled sockets are the parent's too,
        and two processes reading one got each other's answers (one that had not, a module's
        client in a pre-fork server, has nothing of the parent's: it becomes the child's)."""
        home = self._home
        if home.forks != _forks:
            if self.forked_away():
                raise ClientClosedError(
                    f"{what} in a forked process: this NumbersClient searched before the fork, "
                    "and its pooled connections are the parent's; create a client in each "
                    "process, after the fork"
                )
            home.forks = _forks
        if home.loop is None and bind:
            with _BINDING:  # two threads' loops searching a fresh client: one binds it
                if home.loop is None:
                    home.loop = loop
        if home.loop is not None and loop is not home.loop:
            raise ClientClosedError(
                f"{what} on another event loop: this NumbersClient belongs to the one it first "
                "searched on; create one client per event loop, and close it on that loop "
                "(each asyncio.run() starts a new one)"
            )

    async def fetch(self, request: dict[str, Any], search: SearchInfo) -> list[AvailableNumber]:
        """One page of numbers for ``request`` (the generated ``_get_kwargs``), with retries,
        within ``search``'s deadline."""
        task = self._interruptible(asyncio.get_running_loop())
        turn = search._turn
        if turn is not None:
            turn.start()
        try:
            waiter = self._gate.ask()
            if waiter is not None:
                await waiter
            return await self._fetch(request, search)
        except asyncio.CancelledError:
            self._raise_if_closed(task)
            raise
        finally:
            if turn is not None:
                turn.finish()
            self._done(task)

    def _interruptible(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any]:
        """The current task, which close() may now interrupt (until ``_done``): its
        cancellation then becomes ClientClosedError (``_raise_if_closed``). Plain calls, not a
        context manager: a waiting search would hold one, its generator and a bound method."""
        self.check_loop(loop)
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        return task

    def _raise_if_closed(self, task: asyncio.Task[Any]) -> None:
        """Called on ``task``'s CancelledError: raise ClientClosedError if close() alone
        cancelled it. As in asyncio.timeout, the caller's own cancellation stays one (aiohttp
        also cancels the requests waiting for a connection)."""
        if task in self._interrupted:
            task.uncancel()
        if self.closed and task.cancelling() == 0:
            raise ClientClosedError("the NumbersClient was closed during the search") from None

    def _done(self, task: asyncio.Task[Any]) -> None:
        """``task`` left the part close() interrupts."""
        self._running.discard(task)
        self._interrupted.discard(task)
        left = self._left
        if left is not None and not self._interrupted and not left.done():
            left.set_result(None)

    async def _fetch(self, request: dict[str, Any], search: SearchInfo) -> list[AvailableNumber]:
        """The loop: send one attempt, classify it, ask the retry decision, wait."""
        url = self.url(request)
        asked = _asked(request)
        hooks, budget = self.hooks, self.budget
        observed = bool(hooks.request_sent or hooks.attempt_ended)
        loop = asyncio.get_running_loop()
        deadline_at = _deadline_at(search, loop)
        info: AttemptInfo | None = None
        attempt = 0
        failed_before: str | None = None  # the last retried failure, for a deadline's error
        while True:
            if deadline_at is not None and loop.time() >= deadline_at:
                raise _with_failed_before(_past_deadline(search, attempt), failed_before)
            built = self._build(request, url, attempt)
            mask_key(built)
            attempt += 1
            if observed:
                info = AttemptInfo(search, attempt, built.method, url)
                for sent in hooks.request_sent:  # one raising: nothing sent, nothing counted
                    sent(info)
                if info.extra_headers:
                    built.headers.update(info.extra_headers)
            self.requests_sent += 1
            search.attempts += 1
            if budget is not None and attempt == 1:
                budget.deposit()
            started = time.perf_counter()
            try:
                outcome, status = await self._attempt(built, asked, attempt, deadline_at, search)
            except BaseException as exc:  # cancelled, or an error with no retry to decide on
                if info is not None and isinstance(exc, _ENDS_AN_ATTEMPT):
                    _ended_without_outcome(info, exc, started, hooks)
                raise
            if observed or (not isinstance(outcome, list) and hooks.retry_scheduled):
                info = info or AttemptInfo(search, attempt, built.method, url)
                info.elapsed = time.perf_counter() - started
                info.status_code = None if status == _DEADLINE else status
                info.error = None if isinstance(outcome, list) else outcome
                for ended in hooks.attempt_ended:
                    ended(info)
            if isinstance(outcome, list):
                return outcome
            policy = self.policy
            retry_after = outcome.retry_after if isinstance(outcome, APIStatusError) else None
            decision = decide(
                policy,
                attempt=attempt,
                retryable=is_retryable(outcome),
                retry_after=retry_after,
                fraction=policy.random(),
                time_left=None if deadline_at is None else deadline_at - loop.time(),
                budget_left=budget is None or budget.can_retry(),
            )
            if not decision.retry:
                note = explain(decision, policy, retry_after)
                if status == _DEADLINE:
                    raise _with_failed_before(outcome, failed_before)
                if note is not None:
                    outcome.add_note(note)
                raise outcome
            failed_before = f"{type(outcome).__name__}: {outcome}"
            release_frames(outcome)  # dropped: its causes' frames must not keep it (_cycles.py)
            if budget is not None:
                budget.withdraw()
            if info is not None:
                retry = RetryInfo(
                    info, outcome, decision.delay, decision.reason, policy.max_retries
                )
                for scheduled in hooks.retry_scheduled:
                    scheduled(retry)
            await self._wait_to_retry(decision.delay, search)

    async def _wait_to_retry(self, delay: float, search: SearchInfo) -> None:
        """The retry policy's sleep, during which the search's turn may go to a waiting search
        (``Turn``)."""
        turn = search._turn
        if turn is None:
            await self.policy.sleep(delay)
            return
        turn.sleep()
        try:
            await self.policy.sleep(delay)
        finally:
            turn.wake()

    def _build(self, request: dict[str, Any], url: httpx.URL, sent: int) -> httpx.Request:
        """The next attempt's request; ClientClosedError once the client is closed."""
        if self.closed or self.http.is_closed:
            raise _closed(self.closed)
        options = self.options
        extra = request.get("headers")
        http = self.http
        if not options and not extra:  # a pool of ours: its headers and timeout, no cookies
            # What build_request makes of them, without its merging: 1.6 % of a search's
            # instructions (facade-aiohttp W1 under callgrind, 1.990 -> 1.959 M).
            timeout = {"timeout": http.timeout.as_dict()}
            return httpx.Request(request["method"], url, headers=http.headers, extensions=timeout)
        if extra:  # a search's extra_headers (never the key's header: refused by validation)
            options = {**options, "headers": _with_headers(options.get("headers"), extra)}
        try:
            return http.build_request(request["method"], url, **options)
        except UnicodeEncodeError as exc:
            raise _unencodable(exc, sent) from exc

    async def _attempt(
        self,
        built: httpx.Request,
        asked: int | None,
        attempt: int,
        deadline_at: float | None,
        search: SearchInfo,
    ) -> tuple[list[AvailableNumber] | NumbersError, int | None]:
        """One attempt: its page or the error it maps to (returned, for the loop to decide),
        and the response's status (None without a response, _DEADLINE when it passed)."""
        scope = None if deadline_at is None else asyncio.timeout_at(deadline_at)
        attempt_starts(asyncio.current_task())
        try:
            if scope is None:  # no deadline: no timeout scope to enter and leave
                response, undecodable = await self._send(built)
            else:
                async with scope:
                    response, undecodable = await self._send(built)
        except BodyTooLarge as exc:
            status = exc.response.status_code
            if not exc.response.is_success:  # the status decides (a huge 502 page is retried)
                return error_from_response(exc.response, attempts=attempt), status
            error = ResponseValidationError(str(exc), response=exc.response, attempts=attempt)
            return error, status
        except httpx.TransportError as exc:
            if self.closed:
                raise ClientClosedError("the NumbersClient was closed during the search") from exc
            failed = _connection_error(exc, attempt, built)
            proxy = getattr(self.http, "proxy", None)  # an owned pool's (OwnedClient)
            if proxy is not None and not isinstance(failed, ProxyError):
                failed.add_note(_through(proxy))
            return failed, None
        except httpx.RequestError as exc:  # e.g. TooManyRedirects from a caller's client
            raise APIConnectionError(f"{type(exc).__name__}: {exc}", attempts=attempt) from exc
        except UnicodeEncodeError as exc:  # the redirect request httpx builds for a 3xx
            raise _unencodable(exc, attempt) from exc
        except RuntimeError:  # httpx's "Cannot send a request, as the client has been closed."
            if self.http.is_closed:  # the caller closed its http_client as the attempt began
                raise _closed(self.closed) from None
            raise
        except TimeoutError:
            if scope is None or not scope.expired():
                raise
            sent = attempt - was_cut_off(asyncio.current_task())  # the last one, queued?
            return _past_deadline(search, attempt, sent), _DEADLINE
        status = response.status_code
        if not response.is_success:
            return error_from_response(response, attempts=attempt), status
        if undecodable is not None:
            error = ResponseValidationError(
                f"body could not be decoded: {undecodable}", response=response, attempts=attempt
            )
            error.__cause__ = undecodable
            return error, status
        try:
            return parse_numbers(response.content, asked), status
        except InvalidBody as exc:
            return ResponseValidationError(str(exc), response=response, attempts=attempt), status

    async def _send(
        self, request: httpx.Request
    ) -> tuple[httpx.Response, httpx.DecodingError | None]:
        """The response, read, and the DecodingError if its body could not be decoded: the
        status still decides which error that is (a 502 with a broken gzip body is retried).

        A request a stale keep-alive connection lost is sent once more at once (_stale.py),
        within the same attempt: ``requests_sent`` counts it (the server did receive it),
        the attempt number, ``SearchInfo.attempts`` and the retry policy do not. The resend
        asks the pool for a new connection (``RESENDING``: aiohttp's connector opens one); a
        pool that hands it another pooled one, lost too, gets it again, up to MAX_RESENDS
        times: a caller's pool gave the resend another connection idle as long (in bursts
        after idle gaps, 53 of 1,200 searches failed with max_retries=0 on aiohttp and
        callers' clients), and a request the server handled before dropping the connection
        must not go out once per pooled connection."""
        resends = 0
        while True:
            try:
                if not resends:
                    return await self._send_once(request)
                token = RESENDING.set(True)
                try:
                    return await self._send_once(request)
                finally:
                    RESENDING.reset(token)
            except StaleConnection as stale:
                note_sent()  # the attempt went out: a wait cut off after it is no "never sent"
                if self.http.is_closed or resends == MAX_RESENDS:  # closed meanwhile
                    raise stale.error from None
            resends += 1
            self.requests_sent += 1

    async def _send_once(
        self, request: httpx.Request
    ) -> tuple[httpx.Response, httpx.DecodingError | None]:
        if self._detached is not None:
            return await self._detached.run(request, lambda: self._exchange(request), owner=self)
        return await self._exchange(request)

    async def _exchange(
        self, request: httpx.Request
    ) -> tuple[httpx.Response, httpx.DecodingError | None]:
        """Send ``request`` and read its whole response, which is then closed, within
        ``attempt_limit`` (an httpx.ReadTimeout past it, as the engines raise for one read);
        StaleConnection if a stale keep-alive connection lost it.

        An error status whose body breaks off (cut short, stalled past a timeout) is returned
        with what came of it: the status decides, as for a broken gzip body (a 401 is not
        retried as a dropped connection would be)."""
        response = None
        undecodable = None
        started = time.perf_counter()
        try:
            try:
                async with asyncio.timeout(self.attempt_limit):
                    response = await send_watched(self.http, request)
                    try:
                        await read_limited(response, self.max_response_bytes)
                    except httpx.DecodingError as exc:
                        undecodable = exc
                    except httpx.TransportError as exc:
                        if response.is_success or isinstance(exc, BytesPastTheEnd):
                            raise
            except TimeoutError:
                if response is None or response.is_success:
                    what = "no response head" if response is None else "the body not read"
                    raise httpx.ReadTimeout(
                        f"{what} within {self.attempt_limit} s, the whole attempt's limit "
                        "(connecting, TLS handshake, sending and reading included)",
                        request=request,
                    ) from None
        finally:
            if response is not None:
                # Closed outside the time limit: firing inside httpcore 1.x's close (its lock's
                # checkpoint), it left the connection busy for good (1 in 10-17 attempts the
                # limit ended, on a loaded loop).
                await response.aclose()
                # What httpx's client times by wrapping the stream (not a pool of ours: ``send``).
                response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
                # httpx's stream refers back to its response: a cycle only the garbage
                # collector frees, whose full passes over thousands of searches stall the
                # event loop. The body is read; nothing reads the stream again.
                response.stream = _SPENT
        return response, undecodable


_SPENT = httpx.ByteStream(b"")


# What ends an attempt with no outcome to decide on, for the hooks: a NumbersError raised at
# once, a cancellation, the stream it feeds closed. Not an exception of the caller's own code
# (its http_client's event hook or auth flow): that reaches the caller as it was raised.
_ENDS_AN_ATTEMPT = (NumbersError, asyncio.CancelledError, GeneratorExit)


def _ended_without_outcome(
    info: AttemptInfo, error: BaseException, started: float, hooks: HookSet
) -> None:
    """The ``attempt_ended`` hooks of an attempt cancelled (by its caller, a timeout of its, the
    client closing, its stream closed) or failed with an error raised at once: a tracing hook
    ends its span."""
    info.elapsed = time.perf_counter() - started
    info.cancelled = not isinstance(error, NumbersError)
    info.error = error if isinstance(error, NumbersError) else None
    for ended in hooks.attempt_ended:
        ended(info)


def _asked(request: dict[str, Any]) -> int | None:
    """How many numbers ``request`` (the generated ``_get_kwargs``) asks for: the page is cut
    to it; None if it does not say."""
    limit = request["params"].get("limit")
    if isinstance(limit, str) and limit.isdigit():
        return int(limit)
    return limit if type(limit) is int else None


def _with_headers(headers: httpx.Headers | None, extra: dict[str, str]) -> httpx.Headers:
    """``headers`` (a caller's client's: the key's among them) and ``extra``, in a copy of the
    same masking type: a plain dict would show the key in a traceback's locals."""
    merged = httpx.Headers() if headers is None else type(headers)(headers)
    merged.update(extra)
    return merged


def _turn_wait(deadline: float | None, pool: float | None) -> float | None:
    """Seconds a search may wait for its turn: the pool timeout, or its deadline if shorter."""
    return deadline if pool is None or (deadline is not None and deadline <= pool) else pool


def _turn_expiry(asked: float, deadline: float | None, pool: float | None) -> float | None:
    """Loop time a search asked at ``asked`` stops waiting for its turn (None: never)."""
    wait = _turn_wait(deadline, pool)
    return None if wait is None else asked + wait


def _unencodable(exc: UnicodeEncodeError, attempts: int) -> APIConnectionError:
    """A request a caller's client cannot encode: only a caller's client keeps cookies, and
    httpx puts them in every request it builds (a 3xx's next one included). Not
    InvalidRequestError: earlier pages or attempts may have been sent."""
    return APIConnectionError(
        f"http_client cannot encode the request ({exc}): a cookie the server set?",
        attempts=attempts,
    )


def _closed(by_us: bool) -> ClientClosedError:
    """The error of an attempt the NumbersClient (``by_us``) or its caller's http_client being
    closed refused."""
    if by_us:
        return ClientClosedError("the NumbersClient is closed")
    return ClientClosedError("the http_client passed to the NumbersClient was closed")


def _connection_error(
    exc: httpx.TransportError, attempts: int, sent: httpx.Request
) -> APIConnectionError:
    """The NumbersError for a transport failure of the request ``sent``, naming its httpx type
    and the host (engines' own messages mostly do not: "Name or service not known" of which
    name?)."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    chain = list(own_chain(exc))  # walked once: the engines wrap an error two or three times
    # A refused certificate (the ssl module's error, wrapped by httpcore's and httpx's, or
    # aiohttp's and httpx's) is not retried.
    refused = any(isinstance(cause, ssl.SSLCertVerificationError) for cause in chain)
    if refused:
        cls = CertificateVerificationError
    mask = KeyMask(sent)  # a server may echo the key into a head the engine then quotes
    detail = mask.text(_detail(chain))
    try:
        url = exc.request.url  # a redirect's, through a caller's client that follows them
    except RuntimeError:  # an error raised without its request (reading the body)
        url = sent.url
    to = f" to {_host(url)}" + ("" if url.port is None else f":{url.port}")
    message = f"{type(exc).__name__} after {attempts} attempt(s){to}: {detail}"
    if isinstance(exc, httpx.ProxyError):  # the proxy refused the CONNECT
        error: APIConnectionError = ProxyError(
            message, attempts=attempts, proxy_status=_proxy_status(exc)
        )
    else:
        error = cls(message, attempts=attempts)
    # Raised later, outside the except block, when retries run out.
    error.__cause__ = _masked(exc, chain, mask)
    if refused:
        error.add_note(_CERTIFICATE_NOTE)
    elif isinstance(error, ProxyError) and not is_retryable(error):
        error.add_note(_PROXY_AUTH_NOTE if error.proxy_status == 407 else _PROXY_REFUSED_NOTE)
    elif "WRONG_VERSION_NUMBER" in detail:  # OpenSSL's reading of a plain HTTP answer
        error.add_note(_NOT_TLS_NOTE)
    return error


def _masked(exc: httpx.TransportError, chain: list[BaseException], mask: KeyMask) -> BaseException:
    """``exc``, or when its chain's messages quote the key (a server echoing it into a head
    the engine quotes), a copy of it holding its masked message and its request, none of that
    chain: of its type, or an httpx.TransportError where that type takes other arguments (a
    caller's transport's own)."""
    if all(mask.text(str(link)) == str(link) for link in chain):
        return exc
    message = mask.text(str(exc))
    try:
        copy = type(exc)(message)
    except Exception:
        copy = httpx.TransportError(message)
    with contextlib.suppress(RuntimeError):  # an error raised without its request
        copy.request = exc.request
    return copy


def _proxy_status(exc: httpx.ProxyError) -> int | None:
    """The status a proxy refused a CONNECT with: httpcore's error says "407 Proxy
    Authentication Required" (aiohttp's is mapped to the same words); None if it says none."""
    status = re.match(r"([1-5]\d\d) ", str(exc))
    return None if status is None else int(status.group(1))


_CERTIFICATE_NOTE = (
    "numbers-async: not retried: the server's TLS certificate was refused, or an https:// "
    "proxy's (it must name base_url's host, or the proxy's, be in date and come from a trusted "
    "CA: those of SSL_CERT_FILE / SSL_CERT_DIR when set, else certifi's; a caller's "
    "http_client trusts what its verify= says)"
)


_PROXY_AUTH_NOTE = (
    "numbers-async: not retried: the proxy refused the credentials it was given, or got none: "
    "check the user and password in its URL (the proxy variable's, or http_client's proxy=)"
)
_PROXY_REFUSED_NOTE = (
    "numbers-async: not retried: the proxy refused to open a tunnel to the API's host: does it "
    "let that host through?"
)


def _host(url: httpx.URL) -> str:
    """``url``'s host as a message shows it beside a port: an IPv6 address in brackets."""
    return f"[{url.host}]" if ":" in url.host else url.host


def _through(proxy: httpx.Proxy) -> str:
    """The note of a connection error through ``proxy``: whose the failure may be (its host
    and port; never its credentials)."""
    url = proxy.url
    port = url.port or (443 if url.scheme == "https" else 80)
    return (
        f"numbers-async: sent through the proxy at {_host(url)}:{port} (the environment's "
        "HTTPS_PROXY, HTTP_PROXY or ALL_PROXY): the failure may be the proxy's"
    )


_NOT_TLS_NOTE = (
    "numbers-async: the server did not answer in TLS: does base_url's port speak plain HTTP "
    "(an http:// URL)?"
)


# What an engine's timeout with no message of its own waited for: the first message in its
# chain said how, not what ("Cancelled via cancel scope 7f..; reason: deadline exceeded", anyio's
# words, for httpcore2's pool timeout).
_TIMED_OUT: dict[type[BaseException], str] = {
    httpx.PoolTimeout: POOL_TIMED_OUT,
    httpx.ConnectTimeout: "no connection was opened within the connect timeout",
    httpx.ReadTimeout: "no data came within the read timeout",
    httpx.WriteTimeout: "the request could not be written within the write timeout",
}


def _detail(chain: list[BaseException]) -> str:
    """The message of an error (``chain[0]``), else what a timeout waited for, else the first
    message in its own chain, else the type of the error it came of: engines raise some with
    none (a reset during the TLS handshake)."""
    if not str(chain[0]) and type(chain[0]) in _TIMED_OUT:
        return _TIMED_OUT[type(chain[0])]
    for cause in chain:
        if str(cause):
            return str(cause) if cause is chain[0] else f"{type(cause).__name__}: {cause}"
    return "no detail" if len(chain) == 1 else type(chain[-1]).__name__


_DEADLINE = -1  # the status of an attempt the search's deadline ended


def _deadline_at(search: SearchInfo, loop: asyncio.AbstractEventLoop) -> float | None:
    """The loop time ``search`` must end by: set when search() asked for its turn, else
    (iter_search) from its first request."""
    if search.deadline is None:
        return None
    if search._deadline_at is None:
        search._deadline_at = loop.time() + search.deadline
    return search._deadline_at


def _with_failed_before(error: NumbersError, failed_before: str | None) -> NumbersError:
    """``error`` (a deadline's), noting how the attempt before it failed, if one did: the
    deadline's message alone hid the 502s that ate the search's time."""
    if failed_before is not None:
        error.add_note(f"numbers-async: the attempt before it failed with {failed_before}")
    return error


def _past_deadline(search: SearchInfo, attempts: int, sent: int | None = None) -> APITimeoutError:
    """The error of a search whose deadline passed (``attempts`` made for this page, ``sent``
    of them sent: the last may have been waiting for a free connection)."""
    deadline = search.deadline
    message = f"the search's deadline ({deadline:g} s) passed after {attempts} attempt(s) of a page"
    if sent is not None and sent < attempts:
        message += ", the last still waiting for a free connection (never sent)"
        attempts = sent
    return APITimeoutError(message, attempts=attempts)
