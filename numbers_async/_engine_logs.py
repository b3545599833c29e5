"""The engines' own log records, with the API key masked where a server echoed it.

httpx's INFO line quotes a response's reason phrase, and httpcore's DEBUG traces quote the
response head and the errors parsing it: a server echoing the key there (a debugging gateway
reflecting request headers) would put it in a service's logs. A filter on those loggers masks
the key of every client alive, in every form ``key_forms`` knows. It runs only for records
their logger is enabled for: nothing is formatted for it otherwise.
"""

from __future__ import annotations

import logging
import threading
from weakref import WeakKeyDictionary

from ._auth import MASKED, Secret, key_forms

_HTTPCORE_PARTS = ("connection", "http11", "http2", "proxy", "socks")
ENGINE_LOGGERS = (
    "httpx",
    "httpx2",
    *(f"{core}.{part}" for core in ("httpcore", "httpcore2") for part in _HTTPCORE_PARTS),
    "aiohttp.client",
    "aiohttp.internal",
)


class _EchoedKeys(logging.Filter):
    """Masks the live clients' keys in a record's message (its arguments merged into it)."""

    def __init__(self) -> None:
        super().__init__()
        # The forms of the keys sent through each HTTP client (a pool), while it is alive.
        self.forms: WeakKeyDictionary[object, tuple[str, ...]] = WeakKeyDictionary()

    def filter(self, record: logging.LogRecord) -> bool:
        forms = {form for each in list(self.forms.values()) for form in each}
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
_LOCK = threading.Lock()


def mask_in_engine_logs(key: Secret, http: object) -> None:
    """Mask ``key`` in the engines' log records while ``http``, the HTTP client sending it
    (shared by derived clients), is alive."""
    with _LOCK:
        if not _FILTER.forms:  # the first client, or the first since every client went
            for name in ENGINE_LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)  # addFilter skips one already there
        forms = _FILTER.forms.get(http, ()) + key_forms(key.reveal())
        _FILTER.forms[http] = tuple(dict.fromkeys(forms))
