"""Letting a failed search's error go when its caller drops it, not at a full collection.

An error raised out of a search refers, through its traceback, to every frame it passed, and
those frames refer back to it: the request loop's ``outcome`` and ``AttemptInfo`` locals, and
the ``SearchInfo`` (holding it as ``error``) most of them have in hand, as do the frames of its
causes' tracebacks. Each failed search so sat in a reference cycle with its response and body
until the collector's next full pass: an outage of 3,000 searches answered with 50 KB 502
bodies peaked at 186 MB instead of 10, and those passes stall the event loop.
"""

from __future__ import annotations

import traceback


def release_frames(error: BaseException) -> None:
    """Clear the locals of the frames ``error`` and its causes left (a frame still running, the
    caller's, is kept whole): done where the error leaves the library, so none of them is a
    caller's. The tracebacks still show every frame and line; only locals go."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        traceback.clear_frames(link.__traceback__)
        link = link.__cause__ or link.__context__
