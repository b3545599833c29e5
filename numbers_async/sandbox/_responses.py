"""The responses the sandbox sends: success and error bodies in the API's shapes.

Error bodies follow the spec's ``ErrorResponse``; statuses the spec documents without a body
(401, 500) are sent empty, and gateway statuses (503, 504) as the plain text a proxy would send.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from numbers_api.spec_facts import AUTH_CHALLENGE

from numbers_async._spec import ERROR_DETAIL_KEY, ERROR_TRACKING_KEY, PAGE_KEY

from ._inventory import SandboxNumber

# (provider, providerCode) pairs a 502 names, as a carrier aggregator's errors would.
_PROVIDER_FAILURES = (
    ("telnyx", "10011"),
    ("telnyx", "10015"),
    ("bandwidth", "12005"),
    ("vonage", "1240"),
)


@dataclass(frozen=True, slots=True)
class Response:
    """A whole HTTP response, ready to send."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The ASGI header list, content type and length included."""
        pairs = [("content-length", str(len(self.body))), *self.headers]
        if self.content_type is not None:
            pairs.append(("content-type", self.content_type))
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


class TrackingIds:
    """Hands out tracking ids: unique within an app (a counter), deterministic for a seed."""

    __slots__ = ("_count", "_rng")

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:tracking")
        self._count = 0

    def next(self) -> str:
        """A tracking id never handed out before by this generator."""
        self._count += 1
        return f"trk_{self._count:06x}{self._rng.getrandbits(40):010x}"


def numbers_response(numbers: Sequence[SandboxNumber]) -> Response:
    """200 with these numbers."""
    return _json(200, {PAGE_KEY: [number.to_json() for number in numbers]})


def error_response(
    status: int, tracking_id: str, code: str, message: str, fix: str, **extra: str
) -> Response:
    """``status`` with the spec's ErrorResponse body."""
    detail = {"code": code, "message": message, "fix": fix, **extra}
    body = {ERROR_TRACKING_KEY: tracking_id, ERROR_DETAIL_KEY: detail}
    return _json(status, {key: value for key, value in body.items() if key is not None})


def unauthorized() -> Response:
    """401 with no body, as the API documents it; an HTTP auth scheme (bearer) is named in
    WWW-Authenticate, as RFC 9110 asks."""
    if AUTH_CHALLENGE is None:
        return Response(401)
    return Response(401, headers=(("www-authenticate", f'{AUTH_CHALLENGE} realm="numbers"'),))


def quota_exceeded(tracking_id: str) -> Response:
    """402: the usage quota is used up."""
    return error_response(
        402,
        tracking_id,
        "usage_limit_exceeded",
        "Monthly search quota reached",
        "upgrade your plan or wait for the quota to reset",
    )


def provider_error(tracking_id: str, rng: random.Random) -> Response:
    """502: the upstream carrier failed, naming it and its own error code."""
    provider, provider_code = rng.choice(_PROVIDER_FAILURES)
    return error_response(
        502,
        tracking_id,
        "provider_error",
        f"The number provider {provider} failed to answer the search",
        "retry the request; provider errors are usually transient",
        provider=provider,
        providerCode=provider_code,
    )


def scripted_response(status: int, tracking_id: str, rng: random.Random) -> Response:
    """The response a scripted ``status`` (other than 200) gets: the API's shape for it."""
    if status == 401:
        return unauthorized()
    if status == 402:
        return quota_exceeded(tracking_id)
    if status == 502:
        return provider_error(tracking_id, rng)
    if status == 500:
        return Response(500)
    if status in (503, 504):
        text = f"{status} Service Unavailable" if status == 503 else "504 Gateway Timeout"
        return Response(status, text.encode(), "text/plain; charset=utf-8")
    if status == 400:
        return error_response(
            400, tracking_id, "invalid_request", "The request is invalid", "check the parameters"
        )
    return error_response(
        status,
        tracking_id,
        "sandbox_fault",
        f"Scripted sandbox response {status}",
        "this status was queued with Faults.script()",
    )


def _json(status: int, body: dict[str, Any]) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, data, "application/json")
