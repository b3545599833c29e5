"""The command line's grammar: subcommands, options, their checks and the exit statuses."""

from __future__ import annotations

import argparse
import inspect
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar

from numbers_async import InvalidRequestError, NumbersClient, SearchFilters, __version__
from numbers_async import _validation as check
from numbers_async._auth import Secret
from numbers_async._pagination import PAGE_MAX
from numbers_async._spec import PARAMETERS, describe

SUCCESS = 0
API_ERROR = 1
USAGE_ERROR = 2  # argparse's own status for bad usage
INTERRUPTED = 130  # the shell's convention for Ctrl+C

MAX_LATENCY = 600.0  # seconds: the sandbox's added latency (1e308 held a request for good)

FORMATS = ("table", "json", "ndjson", "csv")
# The feature names the sandbox stocks; the API's reference names sms, voice and mms as examples
# and answers 400 to a name it does not know (tests/test_cli.py holds this to the sandbox's).
FEATURE_NAMES = ("sms", "voice", "mms", "fax")

_DEFAULT_TIMEOUT = inspect.signature(NumbersClient).parameters["timeout"].default

EXIT_STATUSES = f"""exit status:
  {SUCCESS}    success (fewer numbers than asked when fewer exist: a notice on stderr)
  {API_ERROR}    the API answered with an error or could not be reached, --deadline passed,
       or the results could not be written
  {USAGE_ERROR}    bad usage or invalid input, the API's 400 included
  {INTERRUPTED}  interrupted (Ctrl+C); the numbers found so far are still written"""

N = TypeVar("N", int, float)


def _boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"must be true or false, got {quoted(text)}")
    return text == "true"


# How an option's text becomes the spec type the library checks.
_OPTION_TYPES: dict[str, Callable[[str], object]] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": _boolean,
}


def filter_option(name: str) -> str:
    """The command's option for the search filter ``name`` (``area_code``: ``--area-code``)."""
    return "--" + name.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that names the arguments it does not know, cannot tell apart or
    cannot take without repeating their values: a mistyped ``--apikey=KEY``, an abbreviated
    ``--a=KEY`` or ``--api-key KEY search`` printed the key."""

    def parse_args(self, args: Iterable[str] | None = None, namespace: Any = None) -> Any:
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {_unrecognized(unknown)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        ambiguous = "ambiguous option: "  # argparse's words, then "--a=VALUE could match ..."
        if message.startswith(ambiguous) and " could match " in message:
            option, _, matches = message.removeprefix(ambiguous).rpartition(" could match ")
            message = f"{ambiguous}{option.split('=', 1)[0]} could match {matches}"
        # "argument COMMAND: invalid choice: 'VALUE' (choose from ...)": the key where a
        # command was expected (`--api-key KEY search`, the option before the subcommand).
        invalid, choices = "invalid choice: ", " (choose from "
        if invalid in message and choices in message:
            head, _, rest = message.partition(invalid)
            message = f"{head}invalid choice{choices}{rest.rpartition(choices)[2]}"
        # "argument --seed: invalid int value: 'VALUE'": argparse's own types quote the value.
        converted = _CONVERSION_ERROR.fullmatch(message)
        if converted:
            message = converted.group(1) + quoted(converted.group(3))
        super().error(message)


_CONVERSION_ERROR = re.compile(r"(argument .*: invalid \w+ value: )(['\"])(.*)\2", re.DOTALL)
# The longest value an error repeats: a key typed where a number was expected (``--limit KEY``)
# must not be printed, and keys are longer than any value these options take.
SHOWN_AT_MOST = 16


def quoted(text: str) -> str:
    """``text`` quoted, as an error repeats a value, unless it is longer than SHOWN_AT_MOST."""
    if len(text) <= SHOWN_AT_MOST:
        return repr(text)
    return f"a value of {len(text)} characters (not repeated)"


def _unrecognized(arguments: list[str]) -> str:
    """The options among ``arguments`` (``--apikey`` of ``--apikey=KEY``, ``-k`` of ``-kKEY``)
    and how many values there are besides."""
    options = [
        argument.split("=", 1)[0] if argument.startswith("--") else argument[:2]
        for argument in arguments
        if len(argument) > 1 and argument[0] == "-" and not argument[1].isdigit()
    ]
    values = len(arguments) - len(options)
    if values:
        options.append(f"{values} value{'s' if values > 1 else ''}")
    return f"{', '.join(options)} (values not repeated)"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``numbers-async``: ``search`` and ``sandbox`` subcommands."""
    parser = _Parser(
        prog="numbers-async",
        description="Search available phone numbers, or serve the offline sandbox API.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    search = commands.add_parser(
        "search",
        help="search available numbers",
        description="Search available numbers; results on stdout, notices and errors on stderr.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search.add_argument(
        "country_code",
        metavar="COUNTRY",
        help=describe(PARAMETERS["country_code"]).replace("%", "%%") + " (or lower case)",
    )
    search.add_argument(
        "--features",
        action="append",
        metavar="NAMES",
        help="features every number must have, comma-separated; repeat the option to add more "
        f"(names: {', '.join(FEATURE_NAMES)})",
    )
    for name in SearchFilters.__annotations__:  # every other filter, as the spec describes it
        if name != "features":
            param = PARAMETERS[name]
            search.add_argument(
                filter_option(name),
                dest=name,
                type=_OPTION_TYPES[param.type],
                help=describe(param).replace("%", "%%"),
            )
    search.add_argument(
        "--limit",
        type=_ranged(int, 1),
        default=10,
        help=f"how many numbers to find (default 10; pages of up to {PAGE_MAX})",
    )
    search.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    search.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"give up on a request (one attempt) after SECONDS (default {_DEFAULT_TIMEOUT:g})",
    )
    search.add_argument(
        "--deadline",
        type=_seconds,
        metavar="SECONDS",
        help="end the whole search after SECONDS, retries included, keeping what was found",
    )
    search.add_argument("--base-url", help="API base URL (default: $NUMBERS_BASE_URL)")
    search.add_argument("--api-key", help="API key (default: $NUMBERS_API_KEY)")
    search.add_argument(
        "--sandbox",
        action="store_true",
        help="search the embedded sandbox in-process (no network, no key)",
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the sandbox API on loopback",
        description="Serve the sandbox API on a loopback address until interrupted.",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    sandbox.add_argument(
        "--port", type=_ranged(int, 0, 65535), default=8080, help="default 8080; 0 picks one"
    )
    sandbox.add_argument(
        "--fail-rate",
        type=_ranged(float, 0.0, 1.0),
        default=0.0,
        help="share of searches failing with 502",
    )
    sandbox.add_argument(
        "--latency",
        type=_ranged(float, 0.0, MAX_LATENCY),
        default=0.0,
        help="seconds added to every response",
    )
    sandbox.add_argument("--seed", type=int, default=0, help="inventory and sampling seed")
    sandbox.add_argument(
        "--quota",
        type=_ranged(int, 0),
        default=None,
        help="searches served before every request gets 402",
    )
    sandbox.add_argument(
        "--api-key", type=_sendable_key, default="sandbox", help="key clients must send"
    )
    return parser


def _ranged(kind: Callable[[str], N], low: N, high: N | None = None) -> Callable[[str], N]:
    """An argparse type: a ``kind`` number from ``low`` to ``high``, with a message naming both."""
    bounds = f"from {low} to {high}" if high is not None else f"{low} or more"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a number {bounds}, got {quoted(text)}"
            ) from None
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {quoted(text)}")
        return value

    return parse


def _sendable_key(text: str) -> str:
    """An argparse type: a key a client can send (``NumbersClient`` refuses any other, so a
    sandbox expecting one could never be searched)."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    try:
        check.api_key(Secret(text))
    except InvalidRequestError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("api_key ")) from None
    return text


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds greater than 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {quoted(text)}")
    return value
