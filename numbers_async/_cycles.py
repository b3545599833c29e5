"""Letting a failed search's error go when its caller drops it, not at a full collection.

An error raised out of a search refers, through its traceback, to every frame it passed, and
those frames refer back to it: the request loop's ``outcome`` and ``AttemptInfo`` locals, and
the ``SearchInfo`` (holding it as ``error``) most of them have in hand, as do the frames of its
causes' tracebacks. Each failed search so sat in a reference cycle with its response and body
until the collector's next full pass: an outage of 3,000 searches answered with 50 KB 502
bodies peaked at 186-189 MB instead of 6-11 (``python -m benchmarks.outage_memory``), and
those passes stall the event loop.

Only the library's and the engines' own frames are cleared, in the part of the error's chain
that is theirs: never a caller's frame (a hook's, an http_client's event hook), nor an exception
the caller was handling when it searched (the engines' first error has it as ``__context__``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import sys
from collections.abc import Iterator
from types import TracebackType

# The packages whose frames are the library's and the engines', with the asyncio machinery
# between them; and the stdlib modules they raise through.
_PACKAGES = (
    "numbers_async",
    "numbers_api",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "h11",
    "anyio",
    "aiohttp",
    "httpx_aiohttp",
    "asyncio",
    "uvloop",
)
_MODULES = (contextlib.__file__, ssl.__file__, socket.__file__)


def _places() -> tuple[str, ...]:
    """The folders of the packages above that are loaded, and the files of the modules. A
    compiled (Cython) module's frames name their source relative to its package ("uvloop/
    loop.pyx", "aiohttp/_http_parser.pyx"): on uvloop, the engines' TLS errors pass through
    such frames, and a certificate refused there was not told from a dropped connection."""
    places = list(_MODULES)
    for name in _PACKAGES:
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            places += (os.path.dirname(path) + os.sep, name + "/")
    return tuple(places)


def _only_ours(tb: TracebackType | None, places: tuple[str, ...]) -> bool:
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(places):
            return False
        tb = tb.tb_next
    return True


def own_chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then its causes (``raise ... from``) and contexts as long as they are the
    library's and the engines' own: a context whose traceback holds a frame of anyone else's is
    one the caller was handling, and ends the chain."""
    places = _places()
    link: BaseException | None = error
    for _ in range(16):  # the engines wrap an error two or three times
        if link is None:
            return
        yield link
        if link.__cause__ is not None:
            link = link.__cause__
        elif link.__context__ is not None and _only_ours(link.__context__.__traceback__, places):
            link = link.__context__
        else:
            return


def release_frames(error: BaseException) -> None:
    """Clear the locals of the library's and the engines' finished frames in the tracebacks of
    ``error``'s own chain, where it leaves the library or is dropped. Tracebacks still show
    every frame and line."""
    places = _places()
    for link in own_chain(error):
        tb = link.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_filename.startswith(places):
                with contextlib.suppress(RuntimeError):  # still running
                    frame.clear()
            tb = tb.tb_next
