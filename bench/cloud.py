"""A local cloud under measurement: `ftb local` in a subprocess on free ports, its process
tree sampled (psutil) for memory and process count, its CPU time read when it has ended.

Memory is sampled two ways. Summed RSS counts every page a process maps, so a page shared by
N processes (the interpreter, a library imported before a fork) counts N times; PSS
(proportional set size, Linux `/proc/PID/smaps_rollup`) charges each shared page 1/N to each
sharer, so the PSS of a tree adds up to the memory the tree really holds."""

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
    pss_bytes: int | None = None  # None where the system does not report PSS (not Linux)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class MemberMemory:
    pid: int
    rss_bytes: int
    pss_bytes: int | None
    uss_bytes: int | None


def tree_members(root: psutil.Process, pss: bool = True) -> list[MemberMemory]:
    """The memory of `root` and of every descendant; PSS and USS only when `pss` (psutil
    reads /proc/PID/smaps_rollup: one walk of the page tables, about a millisecond for a few
    hundred MB, cheap enough at every sample)."""
    try:
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    found = []
    for member in members:
        try:
            if pss:
                full = member.memory_full_info()
                found.append(MemberMemory(member.pid, full.rss, full.pss, full.uss))
            else:
                found.append(MemberMemory(member.pid, member.memory_info().rss, None, None))
        except psutil.Error:  # ended between the listing and the read
            continue
    return found


def member_label(pid: int) -> str:
    """`ftb local`, `zygote` or the function a Lambda worker runs (spawned or forked, a
    worker's /proc/PID/environ holds its function's variables)."""
    try:
        process = psutil.Process(pid)
        function = process.environ().get("AWS_LAMBDA_FUNCTION_NAME")
        if function:
            return str(function)
        command = " ".join(process.cmdline())
        if "zygote.py" in command:
            return "zygote"
        return "ftb local" if "ftb.cli" in command or "ftb local" in command else command[:40]
    except psutil.Error:
        return "?"


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
    peak_members: tuple[float, list[MemberMemory]] = (0.0, [])
    _labels: dict[int, str] = field(default_factory=dict)
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
        pss = hasattr(psutil.Process().memory_full_info(), "pss")
        peak = 0
        while not self._sampling.is_set() and self.process.poll() is None:
            members = tree_members(root, pss)
            if members:
                rss = sum(m.rss_bytes for m in members)
                proportional = sum(m.pss_bytes or 0 for m in members) if pss else None
                at = time.monotonic() - self._started
                self.samples.append(TreeSample(at, rss, len(members), proportional))
                if (proportional or rss) > peak:  # who holds the peak, for the report
                    peak = proportional or rss
                    self.peak_members = (at, members)
                    for m in members:
                        if m.pid not in self._labels:
                            self._labels[m.pid] = member_label(m.pid)
            self._sampling.wait(SAMPLE_SECONDS)

    def resources(self, since: float = 0.0) -> dict[str, Any]:
        window = [sample for sample in self.samples if sample.at >= since] or self.samples
        pss = [s.pss_bytes for s in window if s.pss_bytes is not None]
        return {
            "peak_rss_mb": round(max((s.rss_bytes for s in window), default=0) / 2**20, 1),
            "peak_pss_mb": round(max(pss) / 2**20, 1) if pss else None,
            "peak_processes": max((s.processes for s in window), default=0),
            "at_peak": self._at_peak(since),
            "cpu_seconds": round(self.cpu_seconds, 2),
        }

    def _at_peak(self, since: float) -> list[dict[str, Any]]:
        """Each process of the tree at the sample of highest PSS (RSS without PSS)."""
        at, members = self.peak_members
        if at < since:
            return []
        mb = 2**20
        return [
            {
                "process": self._labels.get(m.pid, "?"),
                "rss_mb": round(m.rss_bytes / mb, 1),
                "pss_mb": None if m.pss_bytes is None else round(m.pss_bytes / mb, 1),
                "uss_mb": None if m.uss_bytes is None else round(m.uss_bytes / mb, 1),
            }
            for m in members
        ]

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
