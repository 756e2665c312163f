"""A local cloud under measurement: `ftb local` in a subprocess on free ports, its process
tree sampled (psutil) for memory and process count, its CPU time read when it has ended."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 300.0
SAMPLE_SECONDS = 0.25


@dataclass
class TreeSample:
    at: float  # seconds since the cloud was started
    rss_bytes: int
    processes: int


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_rss(root: psutil.Process) -> tuple[int, int]:
    """(RSS summed over `root` and every descendant, number of processes)."""
    total, count = 0, 0
    try:
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for member in members:
        try:
            total += member.memory_info().rss
            count += 1
        except psutil.Error:
            continue
    return total, count


@dataclass
class BenchCloud:
    """One `ftb local` for a section of the benchmark."""

    name: str
    work_dir: Path
    set_env: dict[str, str] = field(default_factory=dict)  # "function:KEY" -> value
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    ready_seconds: float = 0.0
    stop_seconds: float = 0.0
    cpu_seconds: float = 0.0
    samples: list[TreeSample] = field(default_factory=list)
    _started: float = 0.0
    _cpu_before: float = 0.0
    _sampling: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def state_file(self) -> Path:
        return self.work_dir / f"{self.name}.state.json"

    @property
    def log_file(self) -> Path:
        return self.work_dir / f"{self.name}.log"

    def start(self, timeout: float = READY_TIMEOUT_SECONDS) -> BenchCloud:
        """Start and wait until the state file says it is ready (what `ready` means to a user)."""
        command = [sys.executable, "-m", "ftb.cli", "local", "--port", "0", "--endpoint-port", "0"]
        command += ["--state-file", str(self.state_file), "--quiet", *self.extra_args]
        for key, value in self.set_env.items():
            command += ["--set-env", f"{key}={value}"]
        self.state_file.unlink(missing_ok=True)
        self._cpu_before = _children_cpu_seconds()
        self._started = time.monotonic()
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        deadline = self._started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"ftb local ({self.name}) exited:\n{self.log_tail()}")
            try:
                state = json.loads(self.state_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = None
            if state and state.get("pid") == self.process.pid:
                self.state = state
                self.ready_seconds = time.monotonic() - self._started
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"ftb local ({self.name}) not ready:\n{self.log_tail()}")
            time.sleep(0.02)

    def stop(self, timeout: float = 60.0) -> None:
        """Ctrl-C (SIGINT) as a user stops it; the stop time runs until the process is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stop_seconds = time.monotonic() - started
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join(timeout=2)
        # Every process of the tree has been waited for by its parent, and the cloud by us:
        # their CPU time is now in this process's RUSAGE_CHILDREN.
        self.cpu_seconds = _children_cpu_seconds() - self._cpu_before

    def _sample(self) -> None:
        assert self.process is not None
        try:
            root = psutil.Process(self.process.pid)
        except psutil.Error:
            return
        while not self._sampling.is_set() and self.process.poll() is None:
            rss, count = tree_rss(root)
            if count:
                self.samples.append(TreeSample(time.monotonic() - self._started, rss, count))
            self._sampling.wait(SAMPLE_SECONDS)

    def resources(self, since: float = 0.0) -> dict[str, Any]:
        window = [sample for sample in self.samples if sample.at >= since] or self.samples
        return {
            "peak_rss_mb": round(max((s.rss_bytes for s in window), default=0) / 2**20, 1),
            "peak_processes": max((s.processes for s in window), default=0),
            "cpu_seconds": round(self.cpu_seconds, 2),
        }

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- what the sections read ---------------------------------------------------------

    @property
    def tasks_endpoint(self) -> str:
        return str(self.state["outputs"]["TasksEndpoint"]).rstrip("/")

    @property
    def state_machine_arn(self) -> str:
        return str(self.state["outputs"]["StateMachineArn"])

    def output(self, name: str) -> str:
        return str(self.state["outputs"][name])

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.session.Session(  # type: ignore[call-overload]
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                region_name=self.state["region"],
            ).client(
                service,
                endpoint_url=self.state["endpointUrl"],
                config=Config(retries={"max_attempts": 3}, read_timeout=120),
            )
        return self._clients[service]

    def __enter__(self) -> BenchCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
