"""How the API key travels, as the spec's security scheme says, and how it is kept out of sight.

``numbers_api.spec_facts`` names the header and the prefix (``Authorization: Bearer <key>``
today). httpx masks only ``Authorization`` in a headers repr, so when the scheme names another
header (``X-API-Key``) requests get headers whose repr masks that one too.
"""

from __future__ import annotations

import httpx
from numbers_api.spec_facts import AUTH_HEADER, AUTH_PREFIX

KEY_HEADER = AUTH_HEADER.lower()
# httpx's own Headers repr already masks these (httpx._models.SENSITIVE_HEADERS).
_MASKED_BY_HTTPX = frozenset({"authorization", "proxy-authorization"})
MASK_NEEDED = KEY_HEADER not in _MASKED_BY_HTTPX


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
