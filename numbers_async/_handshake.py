"""Closing the TCP stream of a TLS handshake that failed or was cancelled.

httpcore's anyio backends (1.x, and httpcore2's) close the stream only when the handshake
raises an Exception: cancelled (a caller's timeout, ``aclose()``, the attempt's own time
limit), the connection is dropped with its socket still open, on both ends, until a garbage
collection. Their trace extension tells when: the TCP stream is ``connect_tcp.complete``'s
return value, and ``start_tls.failed`` follows a handshake that did not finish.
"""

from __future__ import annotations

import contextlib
from typing import Any


class HandshakeWatch:
    """Keeps the TCP stream while its TLS handshake runs, and closes it if that fails."""

    __slots__ = ("tcp",)

    def __init__(self) -> None:
        self.tcp: Any = None

    async def watch_handshake(self, name: str, info: dict[str, Any]) -> None:
        """Called with every trace event of one request."""
        if name == "connection.connect_tcp.complete":
            self.tcp = info.get("return_value")
        elif self.tcp is not None and name.endswith(("start_tls.complete", "start_tls.failed")):
            tcp, self.tcp = self.tcp, None
            if name.endswith(".failed"):  # httpcore's own failure is raised; this one is not
                with contextlib.suppress(Exception):
                    await tcp.aclose()
