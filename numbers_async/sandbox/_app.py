"""The sandbox as a plain ASGI 3 application serving ``GET /numbers/available``.

One request goes through: added latency, routing, the next scripted fault, auth (401), the
quota (402), query validation (400), the provider fail rate (502), then a fresh random sample
of the matching inventory (200). Every request is counted and the latest ones (``REQUESTS_KEPT``
by default) are recorded in ``app.requests``, so a sandbox serving for days stays bounded.
"""

from __future__ import annotations

import asyncio
import hmac
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from numbers_api.spec_facts import AUTH_HEADER, AUTH_PREFIX, PATH

from numbers_async import _validation as check
from numbers_async._auth import Secret

from . import _responses as respond
from ._faults import Faults
from ._inventory import country_inventory
from ._query import QueryError, parse_query

DEFAULT_API_KEY = "sandbox"
SEARCH_PATH = PATH  # the spec's one operation
# How many recorded requests an app keeps by default: plenty for a test, bounded for a server.
REQUESTS_KEPT = 10_000
# Where requests carry the key: the spec's security scheme (lower-cased for comparison).
_KEY_HEADER = AUTH_HEADER.lower().encode("latin-1")
_KEY_PREFIX = AUTH_PREFIX.lower().encode("latin-1")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the sandbox answered: what was asked and the status it got."""

    method: str
    path: str
    params: dict[str, str]
    status: int


class SandboxApp:
    """The sandbox API: an ASGI application with a deterministic inventory and faults on demand.

    ``faults`` may be changed while the app serves. ``requests`` holds the latest
    ``requests_kept`` requests answered, oldest first (older ones are dropped);
    ``request_count`` counts every request answered and ``searches_served`` the 200s among them.
    """

    __slots__ = (
        "_count",
        "_fault_rng",
        "_sample_rng",
        "_searches",
        "_tracking",
        "api_key",
        "faults",
        "requests",
        "seed",
    )

    def __init__(
        self, *, seed: int, api_key: str, faults: Faults, requests_kept: int = REQUESTS_KEPT
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        check.api_key(Secret(api_key))  # one a NumbersClient can send (InvalidRequestError)
        if requests_kept < 0:
            raise ValueError(f"requests_kept must be 0 or more, got {requests_kept!r}")
        self.seed = seed
        self.api_key = api_key
        self.faults = faults
        self.requests: deque[RecordedRequest] = deque(maxlen=requests_kept)
        self._count = 0
        self._sample_rng = random.Random(f"{seed}:sample")
        self._fault_rng = random.Random(f"{seed}:faults")
        self._tracking = respond.TrackingIds(seed)
        self._searches = 0

    def __repr__(self) -> str:
        return f"<SandboxApp seed={self.seed} requests={self._count}>"

    @property
    def request_count(self) -> int:
        """How many requests the sandbox has answered, including those ``requests`` dropped."""
        return self._count

    @property
    def searches_served(self) -> int:
        """How many searches got numbers (status 200): what the quota counts."""
        return self._searches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        response = await self._respond(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        params = dict(parse_qsl(query, keep_blank_values=True))
        self._count += 1
        self.requests.append(
            RecordedRequest(scope["method"], scope["path"], params, response.status)
        )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": response.raw_headers(),
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _respond(self, scope: Scope) -> respond.Response:
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        if scope["path"] != SEARCH_PATH:
            return respond.error_response(
                404,
                self._tracking.next(),
                "not_found",
                f"no resource at {scope['path']}",
                f"the API serves GET {SEARCH_PATH}",
            )
        if scope["method"] != "GET":
            return respond.Response(405, headers=(("allow", "GET"),))
        scripted = self.faults.scripted()
        if scripted is not None and scripted != 200:
            return respond.scripted_response(scripted, self._tracking.next(), self._fault_rng)
        if not self._authorized(scope["headers"]):
            return respond.unauthorized()
        if self.faults.quota_exhausted(self._searches):
            return respond.quota_exceeded(self._tracking.next())
        try:
            query = parse_query(scope["query_string"].decode("latin-1"))
        except QueryError as error:
            return respond.error_response(
                400, self._tracking.next(), error.code, error.message, error.fix
            )
        if self.faults.provider_fails(self._fault_rng.random()):
            return respond.provider_error(self._tracking.next(), self._fault_rng)
        inventory = country_inventory(self.seed, query.country_code)
        pool = inventory.drawn(query.area_code, query.features)
        if pool is None:  # drawn in a thread: the event loop (other clients, timers) goes on
            pool = await asyncio.to_thread(inventory.matching, query.area_code, query.features)
        self._searches += 1
        return respond.numbers_response(self._sample_rng.sample(pool, min(query.limit, len(pool))))

    def _authorized(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        """The key sent as the spec's security scheme says (header and prefix, the prefix's
        scheme name case-insensitive as HTTP auth schemes are)."""
        for name, value in headers:
            if name.lower() == _KEY_HEADER:
                prefix, token = value[: len(_KEY_PREFIX)], value[len(_KEY_PREFIX) :]
                expected = self.api_key.encode()
                return prefix.lower() == _KEY_PREFIX and hmac.compare_digest(token, expected)
        return False


def create_app(
    *,
    seed: int = 0,
    api_key: str = DEFAULT_API_KEY,
    fail_rate: float = 0.0,
    latency: float = 0.0,
    quota: int | None = None,
    script: Iterable[int] = (),
    requests_kept: int = REQUESTS_KEPT,
) -> SandboxApp:
    """A fresh sandbox API as an ASGI application.

    Args:
        seed: fixes the inventory and the sequence of samples and faults; the same seed and the
            same requests give the same responses.
        api_key: the key requests must send as the spec's security scheme says
            (``Authorization: Bearer <api_key>``; ``numbers_api.spec_facts.AUTH_HEADER``).
        fail_rate: share of valid searches answered with a 502 provider error, 0 to 1.
        latency: seconds added before every response.
        quota: searches answered before every request gets 402; ``None`` for no quota.
        script: statuses for the next requests, in order (see ``Faults.script``).
        requests_kept: how many of the latest requests ``app.requests`` keeps.

    Serve it in-process with ``httpx.ASGITransport(app=app)`` or on loopback with uvicorn.
    """
    faults = Faults(fail_rate=fail_rate, latency=latency, quota=quota, script=script)
    return SandboxApp(seed=seed, api_key=api_key, faults=faults, requests_kept=requests_kept)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledges a server's startup and shutdown: the sandbox needs no setup."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
