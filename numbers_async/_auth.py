"""How the API key travels, as the spec's security scheme says, and how it is kept out of sight.

``numbers_api.spec_facts`` names the header and the prefix (``Authorization: Bearer <key>``
today). httpx masks only ``Authorization`` in a headers repr, so when the scheme names another
header (``X-API-Key``) requests get headers whose repr masks that one too.
"""

from __future__ import annotations

import json
import re
from typing import NoReturn
from urllib.parse import quote, quote_plus

import httpx
from numbers_api.spec_facts import AUTH_HEADER, AUTH_PREFIX

KEY_HEADER = AUTH_HEADER.lower()
# httpx's own Headers repr already masks these (httpx._models.SENSITIVE_HEADERS).
_MASKED_BY_HTTPX = frozenset({"authorization", "proxy-authorization"})
MASK_NEEDED = KEY_HEADER not in _MASKED_BY_HTTPX


MASKED = "[secure]"
_MASKED_KEY_MIN = 8  # characters
_PERCENT = re.compile("%[0-9A-F]{2}")  # a percent-encoded byte, as quote() writes it


def key_forms(key: str) -> tuple[str, ...]:
    """How a server may echo ``key`` back: as sent, JSON-escaped (``\\/`` too) or URL-encoded;
    none for a key of a few characters (masking it would garble every word holding them)."""
    if len(key) < _MASKED_KEY_MIN:
        return ()
    escaped = json.dumps(key)[1:-1]
    encoded = [quote(key, safe=""), quote(key), quote_plus(key)]  # as URLs carry it
    encoded += [_PERCENT.sub(lambda hit: hit.group().lower(), e) for e in encoded]
    return tuple(dict.fromkeys((key, escaped, escaped.replace("/", "\\/"), *encoded)))


class Secret:
    """The API key in a holder whose repr never shows it: between the constructor's argument
    and the request headers, the key lives only here, so the locals of a traceback's frames
    (``capture_locals``, rich, Sentry) show ``Secret([secure])``."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret([secure])"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the API key is never pickled")

    def wrong_type(self) -> str | None:
        """The key's type name when it is neither a string (a str subclass too) nor absent,
        for a message (never its value); else None."""
        if self._value is None or isinstance(self._value, str):
            return None
        return type(self._value).__name__

    def is_text(self) -> bool:
        """Whether the key is a non-empty string (checked before ``reveal()``)."""
        return isinstance(self._value, str) and bool(self._value)

    def reveal(self) -> str:
        """The key itself; call it inside an expression, never bind it to a name."""
        if not isinstance(self._value, str):
            raise TypeError("the API key is not a string")
        return self._value


def request_headers(key: Secret, user_agent: str) -> httpx.Headers:
    """The headers every request carries: the key's (masked in any repr) and User-Agent."""
    masked = KeyMaskedHeaders if MASK_NEEDED else httpx.Headers
    return masked({**key_headers(key.reveal()), "User-Agent": user_agent})


def key_headers(key: str) -> dict[str, str]:
    """The header that carries ``key`` on every request."""
    return {AUTH_HEADER: f"{AUTH_PREFIX}{key}"}


class KeyMaskedHeaders(httpx.Headers):
    """Headers whose repr shows ``[secure]`` for the key's header, as httpx does for
    Authorization."""

    def __repr__(self) -> str:
        shown = [
            (name, "[secure]" if name.lower() == KEY_HEADER else value)
            for name, value in self.multi_items()
        ]
        return f"{type(self).__name__}({shown!r})"


def mask_key(request: httpx.Request) -> None:
    """Make ``request``'s headers (the ones errors keep) mask the key in their repr."""
    if MASK_NEEDED:
        request.headers = KeyMaskedHeaders(request.headers)
