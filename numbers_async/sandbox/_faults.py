"""Faults on demand: what the sandbox gets wrong, and when, for testing retries and errors.

A ``Faults`` object belongs to one app and may be changed while it serves. ``scripted`` hands
out the statuses queued for the next requests; ``quota_exhausted`` and ``provider_fails`` are
the pure rules for the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

# Statuses from 200 up whose responses never have a body (RFC 9110, sections 15.3.5 and 15.4.5).
_BODILESS = frozenset({204, 304})


class Faults:
    """Configurable failures of one sandbox app; the attributes may change while it serves.

    ``fail_rate`` is the share of valid searches answered with a 502 provider error,
    ``latency`` the seconds added before every response, ``quota`` the number of searches
    answered before every request gets 402 (``None``: no quota). ``script(...)`` queues
    statuses for the next requests, whatever they ask; a queued 200 serves that one normally.
    """

    __slots__ = ("_queue", "fail_rate", "latency", "quota")

    def __init__(
        self,
        *,
        fail_rate: float = 0.0,
        latency: float = 0.0,
        quota: int | None = None,
        script: Iterable[int] = (),
    ) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, got {fail_rate!r}")
        if latency < 0:
            raise ValueError(f"latency must be 0 or more seconds, got {latency!r}")
        if quota is not None and quota < 0:
            raise ValueError(f"quota must be 0 or more searches, got {quota!r}")
        self.fail_rate = fail_rate
        self.latency = latency
        self.quota = quota
        self._queue: deque[int] = deque()
        self.script(*script)

    def script(self, *statuses: int) -> None:
        """Queue ``statuses`` (each 200 to 599, except 204 and 304) for the next requests, in order.

        Scripted statuses are answered with a body, which 1xx, 204 and 304 responses cannot
        carry: HTTP servers such as uvicorn's h11 refuse to send them, so they are refused here.
        """
        for status in statuses:
            if (
                isinstance(status, bool)
                or not isinstance(status, int)
                or not 200 <= status <= 599
                or status in _BODILESS
            ):
                raise ValueError(
                    f"a scripted status must be an int from 200 to 599 other than 204 and 304 "
                    f"(it is sent with a body, which 1xx, 204 and 304 cannot carry), got {status!r}"
                )
        self._queue.extend(statuses)

    @property
    def pending(self) -> tuple[int, ...]:
        """The scripted statuses not yet served."""
        return tuple(self._queue)

    def scripted(self) -> int | None:
        """The status scripted for this request, or ``None`` once the script is done."""
        return self._queue.popleft() if self._queue else None

    def quota_exhausted(self, searches_served: int) -> bool:
        """True once ``searches_served`` has used the whole quota."""
        return self.quota is not None and searches_served >= self.quota

    def provider_fails(self, roll: float) -> bool:
        """True when ``roll``, uniform in [0, 1), falls within the fail rate."""
        return roll < self.fail_rate
