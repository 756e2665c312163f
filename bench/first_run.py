"""The first `make run` in a fresh clone, until the local cloud serves: what a new user waits
for. Warm (the machine's uv, pip and npm caches as they are) and cold (each pointed at an empty
folder), each next to `pip install boto3` into a new venv under the same cache condition; then
the size of .venv with the run set and, after `make test`'s install, with the dev set.

The clone is of the committed HEAD (`git clone` of this repository), so uncommitted changes
are not measured. Ready means what it means to a user: the state file names the running
`ftb local` and both its endpoints (the tasks API and the AWS endpoint) answer HTTP. The time
until then is split into the installer's phases (its `install [n/N] ... s` lines) and the rest
(`ftb local`: synthesis and start-up)."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cloud import REPO_ROOT

READY_TIMEOUT_SECONDS = 900.0
TARGETS = {"warm": 30.0, "cold": 90.0}  # issue 17: seconds to ready
_PHASE = re.compile(r"^install \[\d+/\d+\] (.+?) \.\.\. (?:.*?)?([\d.]+) s(?: \((\w+)\))?$")
# The cache folders of uv, pip and npm: pointed at empty ones for a cold run.
CACHE_VARIABLES = ("UV_CACHE_DIR", "PIP_CACHE_DIR", "npm_config_cache")


def clean_environment(caches: Path | None) -> dict[str, str]:
    """The environment of a user's shell: no venv of ours active, no PYTHONPATH; with
    `caches`, every package cache in an empty folder under it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MAKEFLAGS", "MAKELEVEL")
    }
    if caches is not None:
        for name in CACHE_VARIABLES:
            folder = caches / name.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[name] = str(folder)
    return env


def answers(url: str) -> bool:
    """Any HTTP answer (a 403 or 404 included) means the server is serving."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def installer_phases(output: str) -> list[dict[str, Any]]:
    phases = []
    for line in output.splitlines():
        match = _PHASE.match(line.strip())
        if match:
            phases.append({"phase": match[1], "seconds": float(match[2]), "by": match[3]})
    return phases


def first_make_run(clone: Path, env: dict[str, str]) -> dict[str, Any]:
    """`make run` in `clone` until ready; then Ctrl-C, as a user stops it."""
    state_file = clone / ".bench-state.json"
    log_path = clone.parent / f"{clone.name}.make-run.log"
    arguments = f"--port 0 --endpoint-port 0 --state-file {state_file} --quiet"
    started = time.monotonic()
    cpu_before = _children_cpu()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"ARGS={arguments}"],
            cwd=clone,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the stop reaches make's children
        )
    try:
        ready = _wait_until_serving(process, state_file, started, log_path)
    finally:
        _stop(process)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    phases = installer_phases(output)
    installing = sum(phase["seconds"] for phase in phases)
    return {
        "ready_seconds": round(ready, 1),
        # CPU of make and everything under it (on a shared machine the wall time says little)
        "cpu_seconds": round(_children_cpu() - cpu_before, 1),
        "install_seconds": round(installing, 1),
        "ftb_local_seconds": round(ready - installing, 1),  # synthesis and start-up
        "phases": phases,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_until_serving(
    process: subprocess.Popen[bytes], state_file: Path, started: float, log: Path
) -> float:
    deadline = started + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"make run exited with {process.returncode}:\n{tail}")
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = None
        if state and state.get("pid"):
            api = str(state["outputs"]["TasksEndpoint"]).rstrip("/") + "/tasks/ready-probe"
            if answers(api) and answers(str(state["endpointUrl"])):
                return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"make run not serving within {READY_TIMEOUT_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def pip_install_boto3(folder: Path, env: dict[str, str]) -> float:
    """The reference: a new venv and `pip install boto3` in it, timed together."""
    started = time.monotonic()
    venv = folder / "boto3-venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, env=env)
    subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", "boto3"],
        check=True,
        env=env,
    )
    return round(time.monotonic() - started, 1)


def directory_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _clone(root: Path, into: Path) -> Path:
    clone = into / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    return clone


def measure(
    work_dir: Path,
    root: Path = REPO_ROOT,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    say = progress or (lambda message: None)
    figures: dict[str, Any] = {"targets_s": TARGETS}
    for condition in ("warm",) if quick else ("warm", "cold"):
        folder = Path(tempfile.mkdtemp(prefix=f"first-run-{condition}-", dir=work_dir))
        try:
            env = clean_environment(folder / "caches" if condition == "cold" else None)
            say(f"{condition}: git clone, then make run until it serves")
            clone = _clone(root, folder)
            run = first_make_run(clone, env)
            say(f"{condition}: pip install boto3 into a new venv")
            run["pip_install_boto3_seconds"] = pip_install_boto3(folder, env)
            run["target_s"] = TARGETS[condition]
            run["met"] = run["ready_seconds"] < TARGETS[condition]
            if condition == "warm":  # sizes once: they do not depend on the caches
                figures["venv_run_set_mb"] = round(directory_bytes(clone / ".venv") / 1e6)
                say("the dev set on top (make test's install)")
                added = time.monotonic()
                subprocess.run(
                    [sys.executable, "-m", "tools.install", "dev"],
                    cwd=clone,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                figures["dev_set_added_seconds"] = round(time.monotonic() - added, 1)
                figures["venv_dev_set_mb"] = round(directory_bytes(clone / ".venv") / 1e6)
            figures[condition] = run
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return figures
