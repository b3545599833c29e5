"""Whether to trace: only when the ``otel`` extra (opentelemetry-api) is installed, so that
without it nothing is imported and nothing paid."""

from __future__ import annotations

import functools
import importlib.util

from .hooks import Hooks


@functools.cache
def _tracing_available() -> bool:
    """Whether opentelemetry-api is installed (looked up, not imported, when it is not)."""
    if importlib.util.find_spec("opentelemetry") is None:
        return False
    try:
        from . import _otel  # noqa: F401
    except ImportError:  # another opentelemetry-* package, without the API
        return False
    return True


def tracing_hooks() -> list[Hooks]:
    """The OpenTelemetry hook when the ``otel`` extra is installed; nothing otherwise."""
    if not _tracing_available():
        return []
    from ._otel import TracingHooks

    return [TracingHooks()]
