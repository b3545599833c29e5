"""Optional dependencies, loaded when a command needs them, with the extra to install named."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(Exception):
    """A command needs an optional dependency that is not installed."""


def load(module: str, needed_for: str) -> ModuleType:
    """``import module``, or ``MissingExtraError`` naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{needed_for} needs the cli extra (missing module: {error.name or module}): "
            "pip install 'numbers-async[cli]'"
        ) from error
