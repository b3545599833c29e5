"""Timeouts: the per-phase time limits of a request, without any engine's type."""

from __future__ import annotations

import attrs


@attrs.frozen
class Timeouts:
    """Seconds allowed to open a connection (``connect``), to wait for each read of the
    response (``read``, also the limit on each write of the request) and to wait for a free
    pooled connection (``pool``). Each must be finite and > 0 (checked by NumbersClient)."""

    connect: float = 10.0
    read: float = 30.0
    pool: float = 30.0
