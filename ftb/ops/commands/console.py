"""`ftb console [--port P] [--stack NAME [--region R] [--profile P]]`: the task console.

Serves the browser console on 127.0.0.1 (loopback only) for the local cloud, or for a deployed
stack with your own AWS credentials: the same target resolution and the same task domain as
every other command. `ftb local` starts one by itself (its URL is in the banner and in
`ftb outputs` as ConsoleUrl). Deep links: {url}/tasks/{taskId}?run=N.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ftb import statefile
from ftb.ops.commands._common import resolve_target, run_guarded
from ftb.ops.output import EXIT_OK, CommandError, Output
from ftb.ops.target import Target, add_target_arguments

DEFAULT_PORT = 8321


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console",
        help="the task console in your browser (loopback only), for the local cloud or a stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free port)",
    )
    add_target_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_guarded(args, _run)


def _run(args: argparse.Namespace, output: Output) -> int:
    from ftb.ops.console.server import ConsoleServer, ConsoleSetupError

    target = resolve_target(args, output)
    try:
        server = ConsoleServer(target, args.port)
    except ConsoleSetupError as error:
        raise CommandError(str(error), "then run `ftb console` again") from None
    except OSError as error:
        raise CommandError(
            f"port {args.port} on 127.0.0.1 is not available ({error.strerror})",
            "pass another --port (0 = any free port)",
        ) from None
    server.start()
    # The one line a companion (ftb local) or a user reads: where the console is.
    print(f"ftb console: {server.url}  ({target.description})", flush=True)
    state_file = statefile.state_file_path(getattr(args, "state_file", None))
    try:
        while _target_alive(target, state_file):
            time.sleep(2.0)
        output.note("the local cloud stopped: the console stops too")
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def _target_alive(target: Target, state_file: Path) -> bool:
    """A deployed stack is always there; the local cloud while the same instance runs (a
    console left behind by a killed `ftb local` must not serve a dead endpoint)."""
    if target.kind != "local":
        return True
    running = statefile.running(state_file)
    return running is not None and running.endpoint_url == target.endpoint_url
