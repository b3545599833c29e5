"""``numbers-async sandbox``: serve the sandbox API with uvicorn on a loopback address."""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import signal
import socket
import sys

from ._args import SUCCESS, USAGE_ERROR, quoted
from ._extras import load

STOP_WAIT = 1  # seconds Ctrl+C or SIGTERM waits for requests in flight


def run_sandbox(args: argparse.Namespace) -> int:
    """Serve until interrupted (Ctrl+C or SIGTERM); returns the exit status."""
    sandbox = load("numbers_async.sandbox", "numbers-async sandbox")
    uvicorn = load("uvicorn", "numbers-async sandbox")
    if not _is_loopback(args.host):
        return _usage_error(
            "--host", f"the sandbox serves loopback addresses only, got {quoted(args.host)}"
        )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.host, args.port))
        # Listening before the address is printed: a client that reads it can connect at once.
        listener.listen(128)
    except OSError as error:
        listener.close()
        return _usage_error("--port", f"cannot listen on {args.host}:{args.port}: {error.strerror}")
    host, port = listener.getsockname()[:2]
    base_url = f"http://[{host}]:{port}" if family == socket.AF_INET6 else f"http://{host}:{port}"
    app = sandbox.create_app(
        seed=args.seed,
        api_key=args.api_key,
        fail_rate=args.fail_rate,
        latency=args.latency,
        quota=args.quota,
    )
    print(
        f"Sandbox API serving at {base_url} (Ctrl+C to stop)\n"
        f"  export NUMBERS_BASE_URL={base_url}\n"
        f"  export NUMBERS_API_KEY={shlex.quote(args.api_key)}",
        flush=True,
    )
    # A stop waits at most STOP_WAIT for requests still in their added latency.
    config = uvicorn.Config(
        app, lifespan="on", ws="none", log_level="warning", timeout_graceful_shutdown=STOP_WAIT
    )
    # uvicorn stops gracefully on SIGINT/SIGTERM, then re-raises the signal: a stop asked for
    # is this command's normal end, not a crash.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        listener.close()
    print("Sandbox API stopped", file=sys.stderr)
    return SUCCESS


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usage_error(flag: str, message: str) -> int:
    print(f"numbers-async sandbox: error: argument {flag}: {message}", file=sys.stderr)
    return USAGE_ERROR
