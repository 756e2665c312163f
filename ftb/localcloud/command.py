"""`ftb local`: the command line of the local cloud (parsing only; the work is in `local`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ftb import startup_gc, statefile


def _env_override(text: str) -> Any:
    from ftb.localcloud.provision import EnvOverride

    try:
        return EnvOverride.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fault_file(text: str) -> Any:
    from ftb.localcloud.faults import FaultConfig, FaultConfigError

    try:
        return FaultConfig.load(Path(text))
    except FaultConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fault_flag(text: str) -> str:
    from ftb.localcloud.faults import FaultConfig, FaultConfigError

    try:
        FaultConfig().apply_flag(text)  # checked here, applied in order in _run_local
    except FaultConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE")
    return name, value


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 = any free port)")
    return port


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local",
        help="run the whole stack locally from its synthesized template (no AWS, no Docker)",
        description=(
            "Synthesize the CDK app (cached while infra/, handlers/, statemachine/, api/, cdk.json "
            "are unchanged), provision its template on a local AWS endpoint (moto + the Lambda "
            "Invoke API), run its functions, event source mappings and REST API, and print the "
            "endpoints. Ctrl-C stops everything."
        ),
    )
    parser.add_argument("--app", default=None, help="the CDK app module (default infra.app)")
    parser.add_argument(
        "--template",
        type=Path,
        help="use this synthesized template (or cloud assembly directory) instead of synthesizing",
    )
    parser.add_argument("--stack", help="the stack to run when the app has several")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=None, help="API port (default 3000; 0 = any free port)"
    )
    parser.add_argument(
        "--endpoint-port",
        type=_port,
        default=None,
        help="AWS endpoint port (default 4566; 0 = any free port)",
    )
    parser.add_argument("--region", default=None, help="region of the local cloud (us-east-1)")
    parser.add_argument(
        "--set-env",
        dest="env_overrides",
        action="append",
        type=_env_override,
        default=[],
        metavar="FUNCTION:KEY=VALUE",
        help="override a function's environment variable, e.g. process-task:FAILURE_RATE=0 "
        "(FUNCTION: a name, a logical id, part of a name, or *; repeatable)",
    )
    parser.add_argument(
        "--parameter",
        dest="parameters",
        action="append",
        type=_parameter,
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter value (repeatable)",
    )
    parser.add_argument(
        "--faults",
        dest="fault_file",
        type=_fault_file,
        default=None,
        metavar="FILE",
        help="fault injection settings, TOML or JSON (docs/reliability.md); off by default",
    )
    parser.add_argument(
        "--fault",
        dest="fault_flags",
        action="append",
        type=_fault_flag,
        default=[],
        metavar="NAME[:TARGET[:POINT]]=VALUE",
        help="one fault, after --faults, e.g. start-execution-throttle=0.1, "
        "crash:start-execution:after-call.states.StartExecution=0.05, "
        "function-error:monitor-dlq=0.3, start-execution-bucket-scale=0.01, sqs-delay=2, "
        "visibility-timeout:task-queue=10 (repeatable; docs/reliability.md)",
    )
    parser.add_argument(
        "-c",
        "--context",
        dest="context",
        action="append",
        type=_parameter,
        default=[],
        metavar="KEY=VALUE",
        help="CDK context for the synth, as `cdk -c` takes it, e.g. apiAuth=apiKey (repeatable)",
    )
    parser.add_argument(
        "--alarm-period-scale",
        type=_alarm_scale,
        default=1.0,
        metavar="F",
        help="evaluate the CloudWatch alarms in scaled time: a period of P seconds lasts "
        "P x F real seconds, evaluations run every 60 x F s (0 < F <= 1; default 1: real time)",
    )
    parser.add_argument("--resynth", action="store_true", help="synthesize even if cached")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start empty: do not restore the saved state (it is set aside, not deleted)",
    )
    parser.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=None,
        metavar="S",
        help="save the state every S seconds, for a hard kill (2; 0: only at Ctrl-C)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=None,
        metavar="S",
        help="at Ctrl-C, how long running executions get to end before the save (10)",
    )
    parser.add_argument(
        "--no-watch",
        dest="watch",
        action="store_false",
        help="do not hot-reload: by default a change to the app's sources (handlers, infra, "
        "workflow, API) is applied to the running cloud (docs/local-cloud.md)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--verbose",
        action="store_true",
        help="echo every function's output and every API request (default: a live view; "
        "function output goes to the log groups and .ftb/local.functions.log)",
    )
    output.add_argument(
        "--quiet", action="store_true", help="no live view: only errors that need attention"
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="where to write the running cloud's state (env FTB_STATE_FILE; .ftb/local.json)",
    )
    parser.set_defaults(func=_run_local)


def _run_local(args: argparse.Namespace) -> int:
    startup_gc.pause()  # until ready (local.run resumes it): ftb/startup_gc.py
    from ftb.localcloud.moto_internals import registry, wall

    problems = registry.check_installed_moto()
    if problems:  # moto moved something the local cloud patches or reads: refuse, say what
        startup_gc.resume()
        print(wall.refusal_message(problems), file=sys.stderr)
        return 2
    from ftb.localcloud import local

    root = statefile.project_root()
    env = os.environ
    options = local.LocalOptions(
        root=root,
        app=args.app or env.get("FTB_APP") or local.synthesis.DEFAULT_APP,
        template=args.template,
        stack=args.stack,
        host=args.host,
        api_port=args.port if args.port is not None else int(env.get("FTB_API_PORT", "3000")),
        endpoint_port=args.endpoint_port
        if args.endpoint_port is not None
        else int(env.get("FTB_ENDPOINT_PORT", "4566")),
        region=args.region or local.DEFAULT_REGION,
        env_overrides=list(args.env_overrides),
        parameters=dict(args.parameters),
        state_file=statefile.state_file_path(args.state_file, root),
        resynth=args.resynth,
        output=_output_mode(args),
        faults=_faults(args),
        watch=args.watch,
        context=dict(args.context),
        fresh=args.fresh,
        alarm_period_scale=args.alarm_period_scale,
    )
    if args.checkpoint_seconds is not None:
        options.checkpoint_seconds = max(0.0, args.checkpoint_seconds)
    if args.drain_seconds is not None:
        options.drain_seconds = max(0.0, args.drain_seconds)
    stop = threading.Event()
    hurry = threading.Event()
    interrupts = 0

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 2:  # a third Ctrl-C: stop waiting for a clean shutdown
            os._exit(130)
        if interrupts > 1:  # a second one: stop draining, save now
            hurry.set()
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    code = local.run(options, stop, hurry)
    # Everything is stopped, the state file removed, the workers gone: `ftb` may exit at once
    # (ftb/cli.py `entry`; never when called in process, as tests do).
    args.exit_at_once = True
    return code


def _output_mode(args: argparse.Namespace) -> Any:
    from ftb.localcloud.terminal import Mode

    return Mode.VERBOSE if args.verbose else Mode.QUIET if args.quiet else Mode.LIVE


def _alarm_scale(text: str) -> float:
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < scale <= 1:
        raise argparse.ArgumentTypeError("the alarm period scale must be within (0, 1]")
    return scale


def _faults(args: argparse.Namespace) -> Any:
    from ftb.localcloud.faults import FaultConfig

    config = args.fault_file or FaultConfig()
    for flag in args.fault_flags:
        config.apply_flag(flag)
    return config if config.enabled else None
