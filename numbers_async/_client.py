"""NumbersClient: the public entry point, one per service, shared by all its tasks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

import httpx
from numbers_api.api.default import search_available_numbers
from numbers_api.models import AvailableNumber
from numbers_api.types import UNSET

from . import _validation as check
from ._pagination import Deduplicator, is_last_page, next_page_size
from ._request import Requester
from ._retry import RetryPolicy
from ._version import __version__
from .errors import NumbersError

USER_AGENT = f"numbers-async/{__version__} python-httpx/{httpx.__version__}"
# One pool for the whole service: keep every connection alive so bursts reuse them instead of
# reconnecting (httpx keeps only 20 alive by default).
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


class NumbersClient:
    """Searches available phone numbers; safe to share among thousands of concurrent tasks.

    ``api_key`` and ``base_url`` fall back to ``NUMBERS_API_KEY`` and ``NUMBERS_BASE_URL``.
    ``timeout`` (seconds or an ``httpx.Timeout``) applies to every request. Pages that fail
    with 502, 503, 504, a connection error or a timeout are retried up to ``max_retries``
    times with full-jitter backoff (``Retry-After`` wins when the server sends one).
    With ``http_client`` the caller owns the connection pool and closes it; otherwise the
    client owns one, closed by ``aclose()`` or ``async with``.
    """

    __slots__ = ("_owns_http", "_requester")

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
    ) -> None:
        key = check.api_key(api_key if api_key is not None else os.environ.get("NUMBERS_API_KEY"))
        url = check.base_url(
            base_url if base_url is not None else os.environ.get("NUMBERS_BASE_URL")
        )
        policy = RetryPolicy(
            max_retries=check.max_retries(max_retries),
            initial_delay=check.non_negative("retry_initial_delay", retry_initial_delay),
            max_delay=check.non_negative("retry_max_delay", retry_max_delay),
        )
        request_timeout = check.timeout(timeout)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise check.InvalidRequestError(
                "http_client", f"http_client must be an httpx.AsyncClient, got {http_client!r}"
            )
        self._owns_http = http_client is None
        self._requester = Requester(
            http=http_client or httpx.AsyncClient(limits=DEFAULT_LIMITS, timeout=request_timeout),
            base_url=url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
            timeout=request_timeout,
            policy=policy,
        )

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
            async for page in self._pages(country_code, features, area_code, limit):
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
    ) -> AsyncIterator[AvailableNumber]:
        """The numbers of ``search()``, yielded as each page arrives; no request is made
        before iteration starts, nor after the caller stops iterating.

        Memory stays flat however many numbers stream by (only the phone numbers seen are kept,
        for de-duplication), so errors raised here carry an empty ``partial_numbers``: the
        caller already holds every number yielded.
        """
        async for page in self._pages(country_code, features, area_code, limit):
            for number in page:
                yield number

    async def _pages(
        self,
        country_code: str,
        features: object,
        area_code: object,
        limit: object,
    ) -> AsyncIterator[list[AvailableNumber]]:
        """The new numbers of each page until a pagination stop rule holds."""
        country = check.country_code(country_code)
        feature_list = check.features(features)
        area = check.area_code(area_code)
        remaining = check.limit(limit)
        seen = Deduplicator()
        while True:
            asked = next_page_size(remaining)
            request = search_available_numbers._get_kwargs(
                country_code=country,
                features=UNSET if feature_list is None else feature_list,
                area_code=UNSET if area is None else area,
                limit=asked,
            )
            page = await self._requester.fetch(request)
            new = seen.new_numbers(page, remaining)
            remaining -= len(new)
            if new:
                yield new
            if is_last_page(asked, len(page), len(new), remaining):
                return

    async def aclose(self) -> None:
        """Close the owned connection pool; searches still running end with ClientClosedError."""
        self._requester.closed = True
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
