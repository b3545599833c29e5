"""NumbersClient: the public entry point, one per service, shared by all its tasks."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from types import TracebackType
from typing import Self

import httpx
from numbers_api.api.default import search_available_numbers
from numbers_api.models import AvailableNumber
from numbers_api.types import UNSET

from . import _validation as check
from ._pagination import PAGE_MAX, Deduplicator, is_last_page, next_page_size
from ._request import Requester
from ._retry import RetryPolicy
from ._transports import Transport, owned_http_client
from ._version import __version__
from .errors import InvalidRequestError, NumbersError

USER_AGENT = f"numbers-async/{__version__} python-httpx/{httpx.__version__}"


class NumbersClient:
    """Searches available phone numbers; safe to share among thousands of concurrent tasks.

    ``api_key`` and ``base_url`` fall back to ``NUMBERS_API_KEY`` and ``NUMBERS_BASE_URL``.
    ``timeout`` (seconds or an ``httpx.Timeout``) applies to every request. Pages that fail
    with 502, 503, 504, a connection error or a timeout are retried up to ``max_retries``
    times with full-jitter backoff (``Retry-After`` wins when the server sends one).
    With ``http_client`` the caller owns the connection pool and closes it; otherwise the
    client owns one on ``transport`` ("httpx", or "aiohttp": several times the throughput under
    concurrency, needs the ``aiohttp`` extra), closed by ``aclose()`` or ``async with``.

    ``page_concurrency`` bounds the requests one large search keeps in flight (default 5: a
    1,000-number search takes about five round trips instead of twenty, while one search never
    holds more than 5 of the pool's 100 connections).
    """

    __slots__ = ("_owns_http", "_page_concurrency", "_requester")

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 2,
        retry_initial_delay: float = 0.5,
        retry_max_delay: float = 8.0,
        http_client: httpx.AsyncClient | None = None,
        transport: Transport = "httpx",
        page_concurrency: int = 5,
    ) -> None:
        key = check.api_key(api_key if api_key is not None else os.environ.get("NUMBERS_API_KEY"))
        url = check.base_url(
            base_url if base_url is not None else os.environ.get("NUMBERS_BASE_URL")
        )
        policy = RetryPolicy(
            max_retries=check.int_at_least("max_retries", max_retries, 0),
            initial_delay=check.non_negative("retry_initial_delay", retry_initial_delay),
            max_delay=check.non_negative("retry_max_delay", retry_max_delay),
        )
        request_timeout = check.timeout(timeout)
        self._page_concurrency = check.int_at_least("page_concurrency", page_concurrency, 1)
        headers = {"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT}
        # An owned pool carries headers and timeout itself (cheaper than merging them into every
        # request); a caller's client gets them per request and is never modified.
        options: dict[str, object] = {}
        self._owns_http = http_client is None
        if http_client is None:
            http_client = owned_http_client(transport, request_timeout, headers)
        elif not isinstance(http_client, httpx.AsyncClient):
            raise InvalidRequestError(
                "http_client", f"http_client must be an httpx.AsyncClient, got {http_client!r}"
            )
        elif transport != "httpx":
            raise InvalidRequestError(
                "transport", "pass transport= or http_client=, not both: http_client has its own"
            )
        else:
            options = {"headers": headers, "timeout": request_timeout}
        self._requester = Requester(http=http_client, base_url=url, options=options, policy=policy)

    def __repr__(self) -> str:
        return f"<NumbersClient base_url={self._requester.base_url!r}>"

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry settings; assign an ``attrs.evolve``-d copy to change them (tests swap
        ``sleep`` this way)."""
        return self._requester.policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self._requester.policy = policy

    @property
    def requests_sent(self) -> int:
        """HTTP requests this client has sent, retries included (for metrics and tests)."""
        return self._requester.requests_sent

    @property
    def is_closed(self) -> bool:
        """True once ``aclose()`` has run."""
        return self._requester.closed

    async def search(
        self,
        country_code: str,
        *,
        features: list[str] | tuple[str, ...] | str | None = None,
        area_code: str | None = None,
        limit: int = 10,
    ) -> list[AvailableNumber]:
        """Up to ``limit`` distinct available numbers, in server order.

        Fewer come back when the inventory runs out. Raises a ``NumbersError`` subclass; an
        error after the first page carries the numbers gathered so far as ``partial_numbers``.
        """
        numbers: list[AvailableNumber] = []
        try:
            pages = self._pages(country_code, features, area_code, limit, self._page_concurrency)
            async for page in pages:
                numbers.extend(page)
        except NumbersError as exc:
            exc.partial_numbers = numbers
            raise
        return numbers

    async def iter_search(
        self,
        country_code: str,
        *,
        features: list[str] | tuple[str, ...] | str | None = None,
        area_code: str | None = None,
        limit: int = 10,
    ) -> AsyncGenerator[AvailableNumber, None]:
        """The numbers of ``search()``, yielded as each page arrives.

        Lazy: one page at a time, no request before iteration starts and none after the caller
        stops iterating (an abandoned generator is not closed at once, so a page read ahead
        would go on, retries included).

        Memory stays flat however many numbers stream by (only the phone numbers seen are kept,
        for de-duplication), so errors raised here carry an empty ``partial_numbers``: the
        caller already holds every number yielded.
        """
        async for page in self._pages(country_code, features, area_code, limit, window=1):
            for number in page:
                yield number

    async def _pages(
        self,
        country_code: str,
        features: object,
        area_code: object,
        limit: object,
        window: int,
    ) -> AsyncIterator[list[AvailableNumber]]:
        """The new numbers of each page, in request order, until a pagination stop rule holds.

        The first page goes alone (a short or empty inventory then costs one request); after
        it, up to ``window`` requests are in flight, each sized to what is still missing once
        the pages already in flight are counted, so their sum never exceeds the total.
        """
        country = check.country_code(country_code)
        feature_list = check.features(features)
        area = check.area_code(area_code)
        remaining = check.limit(limit)

        def fetch(asked: int) -> Coroutine[None, None, list[AvailableNumber]]:
            return self._requester.fetch(
                search_available_numbers._get_kwargs(
                    country_code=country,
                    features=UNSET if feature_list is None else feature_list,
                    area_code=UNSET if area is None else area,
                    limit=asked,
                )
            )

        seen = Deduplicator()
        pending: deque[tuple[int, asyncio.Task[list[AvailableNumber]]]] = deque()
        in_flight = 0  # numbers asked for by the pending requests
        width = 1
        try:
            while True:
                if not pending and (width == 1 or remaining <= PAGE_MAX):
                    asked = next_page_size(remaining)  # one request: no task needed
                    page = await fetch(asked)
                else:
                    while len(pending) < width and remaining > in_flight:
                        size = next_page_size(remaining - in_flight)
                        pending.append((size, asyncio.ensure_future(fetch(size))))
                        in_flight += size
                    asked, task = pending.popleft()
                    in_flight -= asked
                    page = await task
                new = seen.new_numbers(page, remaining)
                remaining -= len(new)
                if new:
                    yield new
                if is_last_page(asked, len(page), len(new), remaining):
                    return
                width = window
        finally:
            for _, task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*(task for _, task in pending), return_exceptions=True)

    async def aclose(self) -> None:
        """Close the owned connection pool; searches still running end with ClientClosedError."""
        self._requester.close()
        if self._owns_http:
            await self._requester.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
