"""What `ftb local` shows while it runs, and where everything else goes.

Three modes (`ftb local` options):
- live (the default): the banner, then the compact live view (`live_view.py`), failed
  executions as one line each, and the errors that need attention: a function that crashed
  or timed out, an API answer in 5xx, an event source mapping that cannot deliver;
- `--verbose`: every function line and API request echoed as it happens (no live view);
- `--quiet`: only the errors that need attention.
In every mode each function line goes to its log group (the runtime ships it) and to the
log file (`function_log.py`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from enum import StrEnum

from rich.console import Console
from rich.text import Text

from ftb.localcloud.function_log import FunctionLog
from ftb.localcloud.live_view import Counters, LiveView

# "POST /v1/tasks -> 202 (3 ms)": the gateway's line for each answer (apigateway/routing.py)
_API_ANSWER = re.compile(r" -> (\d{3}) \(\d+ ms\)$")
# The runtime's REPORT line ends each invocation; one it wrote itself for a crash or a
# timeout says so: "...\tStatus: timeout" or "...\tStatus: error\tError Type: Runtime.X"
_REPORT_STATUS = re.compile(r"\tStatus: (\w+)(?:\tError Type: (\S+))?")
# Lambda's Python runtime writes an unhandled exception as "[ERROR] Type: message\rTraceback"
_UNHANDLED = "[ERROR] "
# Piped or redirected, the view prints plain progress lines and itself once at the end
# (live_view.py): wide enough for one line a row.
PIPED_WIDTH = 160


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=PIPED_WIDTH)
    return console


class Mode(StrEnum):
    LIVE = "live"
    VERBOSE = "verbose"
    QUIET = "quiet"


class Terminal:
    def __init__(self, mode: Mode, log: FunctionLog | None, console: Console | None = None) -> None:
        self.mode = mode
        self.log = log
        self.console = console or _console()
        self.counters = Counters()
        self.view: LiveView | None = None
        self._echo_lock = threading.Lock()

    # -- signals ---------------------------------------------------------------------------

    def function_line(self, function: str, line: str) -> None:
        """A line a function wrote (or the runtime wrote for it)."""
        if self.log is not None:
            self.log.write(function, line)
        if self.mode is Mode.VERBOSE:
            self._echo(function, line)
        if line.startswith(_UNHANDLED):
            self.counters.function_failed(function)
        elif line.startswith("REPORT RequestId: "):
            match = _REPORT_STATUS.search(line)
            status, error_type = (match.group(1), match.group(2)) if match else ("", None)
            crashed = status == "timeout" or (error_type or "").startswith("Runtime.")
            self.counters.function_finished(function, error=crashed)
            if crashed:
                what = "timed out" if status == "timeout" else f"crashed ({error_type})"
                self.attention(function, f"an invocation {what}; its log: {self._log_hint()}")

    def api_line(self, line: str) -> None:
        """The gateway's line for an answered request, or for a failure inside it."""
        match = _API_ANSWER.search(line)
        if match is not None:
            status = int(match.group(1))
            self.counters.api_answered(status)
            if self.mode is Mode.VERBOSE:
                self._echo("api", line)
            elif status >= 500:
                self.attention("api", line)
            return
        self.attention("api", line)  # a failure inside the gateway

    def attention(self, source: str, line: str) -> None:
        """An error that needs attention: shown in every mode."""
        if self.log is not None:
            self.log.write(source, line)
        if self.mode is Mode.VERBOSE:
            self._echo(source, line)
            return
        text = Text()
        text.append(f"{source}: ", style="bold yellow")
        text.append(" ".join(line.split("\r")))
        self._print(text)

    def alarm_line(self, line: str) -> None:
        """A CloudWatch alarm's transition (ftb/localcloud/cloudwatch): one line, every mode."""
        if self.log is not None:
            self.log.write("alarm", line)
        if self.mode is Mode.VERBOSE:
            self._echo("alarm", line)
            return
        text = Text()
        style = "bold red" if "-> ALARM" in line else "bold green" if "-> OK" in line else "dim"
        text.append("alarm: ", style=style)
        text.append(line)
        self._print(text)

    # -- the live view ----------------------------------------------------------------------

    def start_view(self, make_view: Callable[[], LiveView]) -> None:
        """Build and start the live view: in the default mode only."""
        if self.mode is not Mode.LIVE:
            return
        try:
            view = make_view()
        except Exception as error:  # the cloud runs on without its view
            self.attention("ftb local", f"no live view ({error}); function output is logged")
            return
        self.view = view
        view.start()

    def stop_view(self) -> None:
        if self.view is not None:
            view, self.view = self.view, None
            view.stop()

    def _print(self, text: Text) -> None:
        view = self.view
        if view is not None:
            view.print(text)
        else:
            self.console.print(text, soft_wrap=True)

    def _echo(self, source: str, line: str) -> None:
        with self._echo_lock:
            for part in line.split("\r"):
                print(f"{source:>16} | {part}", flush=True)

    def _log_hint(self) -> str:
        return str(self.log.path) if self.log is not None else "its log group"

    def close(self) -> None:
        self.stop_view()
        if self.log is not None:
            self.log.close()
