"""How the tests look for a leaked key in an error: every way it is commonly shown, and the
aiohttp errors (whose reprs show the request's headers) it keeps alive."""

from __future__ import annotations

import pickle
import traceback

import aiohttp


def renderings(error: BaseException) -> list[str]:
    """Every way an error is commonly shown: str, repr, traceback (with every frame's locals, as
    rich and Sentry show it), pickle, its chain, and the reprs of its response, request and
    their headers."""
    with_locals = traceback.TracebackException.from_exception(error, capture_locals=True)
    shown = [
        "".join(traceback.format_exception(error)),
        "".join(with_locals.format()),
        pickle.dumps(error).decode("latin-1"),
    ]
    seen: BaseException | None = error
    while seen is not None:
        shown += [str(seen), repr(seen), repr(vars(seen))]
        for name in ("response", "request"):
            part = getattr(seen, name, None) if name in vars(seen) else None
            if part is not None:
                shown += [repr(part), repr(part.headers), str(part.headers)]
                if hasattr(part, "request"):
                    shown += [repr(part.request), repr(part.request.headers)]
        # the chain as tracebacks and error trackers walk it
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return shown


def engine_errors_held(error: BaseException) -> list[str]:
    """aiohttp errors reachable from ``error``: in its chain (suppressed context included) or
    in a local of any frame of any traceback in it."""
    found: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, aiohttp.ClientError):
            found.append(f"chain: {type(seen).__name__}")
        tb = seen.__traceback__
        while tb is not None:
            for name, value in tb.tb_frame.f_locals.items():
                if isinstance(value, aiohttp.ClientError):
                    found.append(f"{tb.tb_frame.f_code.co_name}: {name}")
            tb = tb.tb_next
        seen = seen.__cause__ or seen.__context__
    return found
