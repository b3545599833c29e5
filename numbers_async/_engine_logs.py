"""The engines' own log records, with the API key masked where a server echoed it.

httpx's INFO line quotes a response's reason phrase, and httpcore's DEBUG traces quote the
response head and the errors parsing it: a server echoing the key there (a debugging gateway
reflecting request headers) would put it in a service's logs. A filter on those loggers masks
the key of every requester alive (a client's, a derived client's), in every form
``key_forms`` knows; it forgets a key once no requester sending it is left (a service with a
client per tenant on one shared pool keeps no key of a client gone). It runs only for the
records its loggers are enabled for: nothing is formatted for it otherwise.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter

from ._auth import MASKED, Secret, key_forms

_HTTPCORE_PARTS = ("connection", "http11", "http2", "proxy", "socks")
ENGINE_LOGGERS = (
    "httpx",
    "httpx2",
    *(f"{core}.{part}" for core in ("httpcore", "httpcore2") for part in _HTTPCORE_PARTS),
    "aiohttp.client",
    "aiohttp.internal",
    # HTTP/2 through a caller's client: hpack's DEBUG lines quote each header it decodes (h2's
    # own logger is a no-op unless the caller passes one in its config).
    "hpack.hpack",
    "hpack.table",
)


class _EchoedKeys(logging.Filter):
    """Masks the live requesters' keys in a record's message (its arguments merged into it)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()  # re-entered when a requester dies during add()
        self._sent: weakref.WeakKeyDictionary[object, tuple[str, ...]] = weakref.WeakKeyDictionary()
        self._held: Counter[str] = Counter()  # each form: how many live requesters send it
        # What filter() reads: longest first (a key that begins another is masked after it),
        # rebuilt on the first record after a change.
        self._forms: tuple[str, ...] = ()
        self._stale = False

    def add(self, requester: object, forms: tuple[str, ...]) -> None:
        """Mask ``forms`` while ``requester`` is alive."""
        with self._lock:
            if not self._sent:  # the first requester, or the first since every one went
                for name in ENGINE_LOGGERS:
                    logging.getLogger(name).addFilter(self)  # skipped where already there
            self._sent[requester] = forms
            self._held.update(forms)
            self._stale = True
        weakref.finalize(requester, self._drop, forms)

    def sent_by(self, requester: object) -> tuple[str, ...]:
        with self._lock:
            return self._sent.get(requester, ())

    def _drop(self, forms: tuple[str, ...]) -> None:
        with self._lock:
            self._held.subtract(forms)
            self._held = +self._held  # forms no live requester sends any more are forgotten
            self._stale = True

    def filter(self, record: logging.LogRecord) -> bool:
        if self._stale:
            with self._lock:
                self._forms = tuple(sorted(self._held, key=len, reverse=True))
                self._stale = False
        forms = self._forms
        if not forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when a handler formats it
            return True
        masked = message
        for form in forms:
            masked = masked.replace(form, MASKED)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = _EchoedKeys()


def mask_in_engine_logs(key: Secret, requester: object) -> None:
    """Mask ``key`` in the engines' log records while ``requester``, which sends it, lives."""
    _FILTER.add(requester, key_forms(key.reveal()))


def mask_like(requester: object, parent: object) -> None:
    """Mask, while ``requester`` (derived from ``parent``) lives, the key ``parent`` sends."""
    _FILTER.add(requester, _FILTER.sent_by(parent))
