"""Companion servers: processes `ftb local` starts beside the cloud once it is ready.

The local cloud knows nothing of what they serve: the command line registers them
(ftb/cli.py registers the task console), each with the command that runs it on a given port
and the output its URL is published under (in the banner, the state file and `ftb outputs`).
A companion listens on loopback; its preferred port is used when free, else any free port.
Its output goes to a log file beside the state file; one that exits early is reported once.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
EARLY_EXIT_SECONDS = 15.0


@dataclass(frozen=True)
class Companion:
    name: str  # e.g. "console"
    output: str  # the output its URL is published under, e.g. ConsoleUrl
    port: int  # preferred port on loopback
    command: Callable[[Path, int], list[str]]  # (state file, port) -> argv
    description: str = ""


_REGISTERED: list[Companion] = []


def register(companion: Companion) -> None:
    if all(existing.name != companion.name for existing in _REGISTERED):
        _REGISTERED.append(companion)


def registered() -> list[Companion]:
    return list(_REGISTERED)


def _port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((LOOPBACK, candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on loopback")


class RunningCompanions:
    """The registered companions, started against one running cloud's state file."""

    def __init__(self, state_path: Path, say: Callable[[str], None]) -> None:
        self.state_path = state_path
        self.say = say
        self.processes: list[tuple[Companion, subprocess.Popen[bytes]]] = []
        self.urls: dict[str, str] = {}  # output -> URL

    def start(self, companions: list[Companion]) -> dict[str, str]:
        for companion in companions:
            port = _port(companion.port)
            log_path = self.state_path.with_name(f"{self.state_path.stem}.{companion.name}.log")
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    companion.command(self.state_path, port),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            self.processes.append((companion, process))
            self.urls[companion.output] = f"http://{LOOPBACK}:{port}"
            threading.Thread(
                target=self._watch, args=(companion, process, log_path), daemon=True
            ).start()
        return dict(self.urls)

    def _watch(self, companion: Companion, process: subprocess.Popen[bytes], log: Path) -> None:
        deadline = time.monotonic() + EARLY_EXIT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                self.say(f"ftb local: the {companion.name} stopped ({tail[0]}); see {log}")
                return
            time.sleep(0.5)

    def banner_lines(self) -> list[str]:
        lines = []
        for companion, _process in self.processes:
            url = self.urls[companion.output]
            lines.append(f"  {companion.name:<13} {url}  {companion.description}".rstrip())
        return lines

    def stop(self) -> None:
        for _companion, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _companion, process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
