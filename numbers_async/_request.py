"""The one request loop: a single page, with the retry policy applied. Nothing else retries."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx

from ._auth import mask_key
from ._body import DEFAULT_MAX_RESPONSE_BYTES, BodyTooLarge, read_limited
from ._cancel import DetachedAttempts, unsafe_pool_size
from ._parse import InvalidBody, parse_numbers
from ._retry import RetryPolicy, decide, explain, is_retryable
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    NumbersError,
    ResponseValidationError,
    error_from_response,
)

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

logger = logging.getLogger("numbers_async")
_URL_CACHE_SIZE = 1024


class Requester:
    """Sends page requests for one client: shared by all its searches, safe under concurrency."""

    __slots__ = (
        "_detached",
        "_interrupted",
        "_running",
        "_urls",
        "base_url",
        "closed",
        "http",
        "max_response_bytes",
        "options",
        "policy",
        "requests_sent",
    )

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        options: dict[str, Any],
        policy: RetryPolicy,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.http = http
        self.max_response_bytes = max_response_bytes
        self.base_url = base_url
        self.options = options  # per-request headers/timeout; empty when set on ``http`` itself
        self.policy = policy
        self.closed = False
        self.requests_sent = 0
        self._running: set[asyncio.Task[Any]] = set()  # tasks inside fetch()
        self._interrupted: set[asyncio.Task[Any]] = set()  # ... that close() cancelled
        self._urls: dict[tuple[object, ...], httpx.URL] = {}
        # Attempts on an httpcore 1.x pool run detached from their caller (see _cancel.py).
        pool_size = unsafe_pool_size(http)
        self._detached = None if pool_size is None else DetachedAttempts(pool_size)

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

    async def settle(self, *, cancel: bool) -> None:
        """Wait for the detached attempts close() left behind, cancelling them first when the
        pool closes next (``cancel``): then none can leak into it."""
        if self._detached is not None:
            await self._detached.settle(cancel=cancel)

    async def fetch(self, request: dict[str, Any]) -> list[AvailableNumber]:
        """One page of numbers for ``request`` (the generated ``_get_kwargs``), with retries."""
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            return await self._fetch(request)
        except asyncio.CancelledError:
            # As in asyncio.timeout: only the cancellation close() made becomes ClientClosedError,
            # never the caller's (aiohttp also cancels the requests waiting for a connection).
            if task in self._interrupted:
                task.uncancel()
            if self.closed and task.cancelling() == 0:
                raise ClientClosedError("the NumbersClient was closed during the search") from None
            raise
        finally:
            self._running.discard(task)
            self._interrupted.discard(task)

    async def _fetch(self, request: dict[str, Any]) -> list[AvailableNumber]:
        """The loop: send one attempt, classify it, ask the retry decision, wait."""
        url = self.url(request)
        attempt = 0
        while True:
            built = self._build(request, url, attempt)
            mask_key(built)
            attempt += 1
            self.requests_sent += 1
            outcome = await self._attempt(built, attempt)
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
                time_left=None,
                budget_left=True,
            )
            if not decision.retry:
                note = explain(decision, policy, retry_after)
                if note is not None:
                    outcome.add_note(note)
                raise outcome
            tracking_id = getattr(outcome, "tracking_id", None)
            logger.warning(
                "numbers-async: %s on attempt %d of %d%s; retrying in %.3f s",
                _what(outcome),
                attempt,
                policy.max_retries + 1,
                f" (trackingId={tracking_id})" if tracking_id else "",
                decision.delay,
            )
            await policy.sleep(decision.delay)

    def _build(self, request: dict[str, Any], url: httpx.URL, sent: int) -> httpx.Request:
        """The next attempt's request; ClientClosedError once the client is closed."""
        if self.closed or self.http.is_closed:
            raise ClientClosedError("the NumbersClient is closed")
        options = self.options
        extra = request.get("headers")
        if extra:  # a search's extra_headers (never the key's header: refused by validation)
            options = {**options, "headers": {**options.get("headers", {}), **extra}}
        try:
            return self.http.build_request(request["method"], url, **options)
        except UnicodeEncodeError as exc:  # only a caller's client keeps cookies
            # Not InvalidRequestError: earlier pages or attempts may have been sent.
            raise APIConnectionError(
                f"http_client cannot encode the request ({exc}): a cookie the server set?",
                attempts=sent,
            ) from exc

    async def _attempt(
        self, built: httpx.Request, attempt: int
    ) -> list[AvailableNumber] | NumbersError:
        """One attempt: its page, or the error it maps to (returned, for the loop to decide)."""
        try:
            response, undecodable = await self._send(built)
        except BodyTooLarge as exc:
            if not exc.response.is_success:  # the status decides (a huge 502 page is retried)
                return error_from_response(exc.response, attempts=attempt)
            return ResponseValidationError(str(exc), response=exc.response, attempts=attempt)
        except httpx.TransportError as exc:
            if self.closed:
                raise ClientClosedError("the NumbersClient was closed during the search") from exc
            return _connection_error(exc, attempt)
        except httpx.RequestError as exc:  # e.g. TooManyRedirects from a caller's client
            raise APIConnectionError(f"{type(exc).__name__}: {exc}", attempts=attempt) from exc
        if not response.is_success:
            return error_from_response(response, attempts=attempt)
        if undecodable is not None:
            error = ResponseValidationError(
                f"body could not be decoded: {undecodable}", response=response, attempts=attempt
            )
            error.__cause__ = undecodable
            return error
        try:
            return parse_numbers(response.content, _asked(built))
        except InvalidBody as exc:
            return ResponseValidationError(str(exc), response=response, attempts=attempt)

    async def _send(
        self, request: httpx.Request
    ) -> tuple[httpx.Response, httpx.DecodingError | None]:
        """The response, read, and the DecodingError if its body could not be decoded: the
        status still decides which error that is (a 502 with a broken gzip body is retried)."""
        if self._detached is not None:
            return await self._detached.run(request, lambda: self._exchange(request))
        return await self._exchange(request)

    async def _exchange(
        self, request: httpx.Request
    ) -> tuple[httpx.Response, httpx.DecodingError | None]:
        """Send ``request`` and read its whole response, which is then closed."""
        response = await self.http.send(request, stream=True)
        try:
            await read_limited(response, self.max_response_bytes)
        except httpx.DecodingError as exc:
            return response, exc
        finally:
            await response.aclose()
        return response, None


def _asked(request: httpx.Request) -> int | None:
    """How many numbers ``request`` asked for (the page is cut to it), None if it did not say."""
    limit = request.url.params.get("limit")
    return int(limit) if limit is not None and limit.isdigit() else None


def _connection_error(exc: httpx.TransportError, attempts: int) -> APIConnectionError:
    """The NumbersError for a transport failure, naming its httpx type."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    detail = str(exc) or "no detail"
    error = cls(f"{type(exc).__name__} after {attempts} attempt(s): {detail}", attempts=attempts)
    error.__cause__ = exc  # raised later, outside the except block, when retries run out
    return error


def _what(error: NumbersError) -> str:
    """A failure in a few characters: its status, or its httpx error type."""
    if isinstance(error, APIStatusError):
        return str(error.status_code)
    cause = error.__cause__
    return type(cause).__name__ if cause is not None else type(error).__name__
