"""numbers-async: an asyncio client for the phone-number search API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
