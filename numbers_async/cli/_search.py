"""``numbers-async search``: one search, its numbers on stdout, notices and errors on stderr."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import warnings
from collections.abc import Coroutine
from contextlib import aclosing
from typing import Any, TextIO

from numbers_async import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CertificateVerificationError,
    InvalidRequestError,
    NumbersClient,
    NumbersError,
    SearchFilters,
)
from numbers_async import _validation as check
from numbers_async._pagination import PAGE_MAX
from numbers_async._transports import ENVIRONMENT

from ._args import API_ERROR, INTERRUPTED, SUCCESS, USAGE_ERROR, filter_option, quoted
from ._extras import load
from ._formats import STREAMED, make_writer, printable
from ._interrupt import ctrl_c_cancels
from ._progress import ProgressBar

# The command's name for each argument the library may reject.
FLAGS = {
    "country_code": "COUNTRY",
    **{name: filter_option(name) for name in SearchFilters.__annotations__},
    "limit": "--limit",
    "timeout": "--timeout",
    "api_key": "--api-key",
    "base_url": "--base-url",
}
# Where a client setting comes from when its option was not given.
VARIABLES = {"api_key": "NUMBERS_API_KEY", "base_url": "NUMBERS_BASE_URL"}


class UsageError(Exception):
    """Bad usage or invalid input, reported with the argument (or variable) it concerns."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")


def _blame(error: InvalidRequestError, args: argparse.Namespace) -> UsageError:
    """``error`` as a usage error naming what the user gave: the option, or the environment
    variable the value came from when the option was not passed."""
    # The library names the argument at the start of some messages; the prefix says it once.
    message = str(error).removeprefix(f"{error.argument}: ")
    variable = VARIABLES.get(error.argument)
    given = getattr(args, error.argument, None)
    from_environment = variable is not None and given is None
    if from_environment:
        given = os.environ.get(str(variable))
    if isinstance(given, str):  # the key typed where a filter or a URL goes is not repeated
        message = message.replace(check.shown(given), quoted(given))
    if error.argument.upper() in ENVIRONMENT:  # the library's environment (any case)
        return UsageError(f"environment variable {error.argument}", message)
    if from_environment:
        return UsageError(f"environment variable {variable}", message)
    return UsageError(f"argument {FLAGS.get(error.argument, error.argument)}", message)


def run_search(args: argparse.Namespace) -> int:
    """Run the search ``args`` describe; returns the exit status."""
    for stream in (sys.stdout, sys.stderr):
        _escape_unencodable(stream)
    try:
        client = _client(args)
    except UsageError as error:
        return _usage_error(error, sys.stderr)
    try:
        return asyncio.run(_interruptible(_search(client, args, sys.stdout, sys.stderr)))
    except (KeyboardInterrupt, asyncio.CancelledError):  # _search wrote what it found, said so
        return INTERRUPTED


async def _interruptible(search: Coroutine[Any, Any, int]) -> int:
    """``search``, stopped by Ctrl+C as ``ctrl_c_cancels`` says."""
    task = asyncio.current_task()
    assert task is not None
    with ctrl_c_cancels(task):
        return await search


def _escape_unencodable(stream: TextIO) -> None:
    """Characters ``stream`` cannot encode (a lone surrogate a server sent, valid in JSON; any
    non-ASCII one on an ASCII terminal) are written escaped (``\\ud800``), not a traceback."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")


def _client(args: argparse.Namespace) -> NumbersClient:
    """The client to search with: the embedded sandbox, or the API the options name."""
    if args.sandbox:
        for flag, value in (("--base-url", args.base_url), ("--api-key", args.api_key)):
            if value is not None:
                raise UsageError(
                    f"argument {flag}", "not allowed with --sandbox, which needs neither"
                )
        sandbox = load("numbers_async.sandbox", "--sandbox")
        try:
            client: NumbersClient = sandbox.sandbox_client(**_options(args))
        except InvalidRequestError as error:
            raise _blame(error, args) from None
        return client
    for flag, value, variable in (
        ("--base-url", args.base_url, "NUMBERS_BASE_URL"),
        ("--api-key", args.api_key, "NUMBERS_API_KEY"),
    ):
        if value == "":  # given, and empty: the variable does not stand in for it
            raise UsageError(f"argument {flag}", "must not be empty")
        if not (value or os.environ.get(variable)):
            raise UsageError(
                f"argument {flag}", f"missing: pass {flag}, set {variable}, or use --sandbox"
            )
    try:
        with warnings.catch_warnings(record=True) as caught:  # said below in the command's words
            warnings.simplefilter("always", RuntimeWarning)
            client = NumbersClient(api_key=args.api_key, base_url=args.base_url, **_options(args))
    except InvalidRequestError as error:
        raise _blame(error, args) from None
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning):  # the client's (a proxy it cannot use)
            sys.stderr.write(f"numbers-async: warning: {printable(str(warning.message))}\n")
        else:  # anything else, as Python would show it
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return client


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The client options the command line sets (the client's defaults otherwise)."""
    return {} if args.timeout is None else {"timeout": args.timeout}


async def _search(client: NumbersClient, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Stream the numbers to the chosen format; report a shortfall or an error on ``err``.

    Pages are fetched with the client's ``page_concurrency`` in flight, as ``search()`` does,
    and written as they arrive (in request order), so the progress bar moves and ndjson/csv
    stream."""
    writer = make_writer(args.format, out)
    # No bar where rows stream to the same terminal: it would be drawn into them.
    streamed_to_terminal = args.format in STREAMED and out.isatty()
    shown = args.limit > PAGE_MAX and err.isatty() and not streamed_to_terminal
    progress = ProgressBar(args.limit, err) if shown else None
    found = 0
    filters = {name: getattr(args, name) for name in SearchFilters.__annotations__}
    if args.features is not None:  # --features given several times: every name counts
        filters["features"] = ",".join(args.features)
    try:
        # The deadline bounds the whole search, retries and their waits included.
        async with asyncio.timeout(args.deadline), client:
            numbers = client.iter_search(
                args.country_code,
                limit=args.limit,
                **filters,
                page_concurrency=client.page_concurrency,
            )
            async with aclosing(numbers):
                async for number in numbers:
                    writer.add(number)
                    found += 1
                    if progress is not None:
                        progress.update(found)
    except InvalidRequestError as error:
        _clear(progress)
        return _usage_error(_blame(error, args), err)
    except NumbersError as error:
        _clear(progress)
        if found:  # what was found before the error is kept; nothing at all prints nothing
            writer.finish()
        _report(error, found, err)
        # A 400 is the API refusing the input (an unknown feature, a country it lacks).
        return USAGE_ERROR if isinstance(error, BadRequestError) else API_ERROR
    except TimeoutError:  # the deadline (the library's own timeouts are NumbersErrors)
        _clear(progress)
        if found:
            writer.finish()
        err.write(
            f"numbers-async: error: the search passed its --deadline of {args.deadline:g} s\n"
        )
        _found_before(found, "the deadline", err)
        return API_ERROR
    except asyncio.CancelledError:  # Ctrl+C: asyncio.run cancels the search, then re-raises
        _clear(progress)
        if found:
            writer.finish()
        err.write("numbers-async: interrupted\n")
        _found_before(found, "the interruption", err)
        raise
    _clear(progress)
    writer.finish()
    if numbers.exhausted:
        err.write(
            f"numbers-async: found {found} of {args.limit} numbers asked for: "
            f"{EXHAUSTED_NOTICE[numbers.stop_reason]}\n"
        )
    return SUCCESS


# Why a search ended short, for people (keyed by SearchResult.stop_reason).
EXHAUSTED_NOTICE: dict[str | None, str] = {
    "short_page": "the API returned fewer than asked (the inventory is smaller)",
    "no_progress": "further pages brought almost no new numbers (the inventory is used up)",
}


def _clear(progress: ProgressBar | None) -> None:
    if progress is not None:
        progress.clear()


def _usage_error(error: UsageError, err: TextIO) -> int:
    err.write(f"numbers-async search: error: {error}\n")
    return USAGE_ERROR


def _report(error: NumbersError, found: int, err: TextIO) -> None:
    """The API's error on ``err``: message, fix hint and tracking id, with no traceback."""
    lines = [f"numbers-async: error: {_headline(error)}"]
    if isinstance(error, APITimeoutError):
        lines.append("  fix: the API did not answer in time; allow more with --timeout SECONDS")
    if isinstance(error, CertificateVerificationError):
        lines.append(
            "  fix: the server's certificate is not trusted here: check the host of --base-url "
            "and the certificate's dates, or name its CA's certificates in SSL_CERT_FILE"
        )
    if isinstance(error, APIStatusError):
        if error.fix:
            lines.append(f"  fix: {error.fix}")
        elif isinstance(error, AuthenticationError):  # the API documents no body for 401
            lines.append("  fix: check the key given by --api-key or NUMBERS_API_KEY")
        if error.provider:
            code = f" (code {error.provider_code})" if error.provider_code else ""
            lines.append(f"  provider: {error.provider}{code}")
        if error.tracking_id:
            lines.append(f"  tracking id: {error.tracking_id}")
        if error.attempts > 1:
            lines.append(f"  attempts: {error.attempts}")
    err.write("\n".join(printable(line) for line in lines) + "\n")
    _found_before(found, "the error", err)


def _found_before(found: int, event: str, err: TextIO) -> None:
    """Say how many numbers stdout got before ``event`` ended the search, if any."""
    if found:
        err.write(f"  {found} numbers were found before {event} (written to stdout)\n")


def _headline(error: NumbersError) -> str:
    if isinstance(error, APIStatusError) and error.message:
        return f"{error.status_code} {error.code or 'error'}: {error.message}"
    return str(error)
