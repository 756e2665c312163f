"""Synthesize the CDK app, cached while its inputs are unchanged.

The cache key is a hash of every file under infra/, handlers/, statemachine/, api/, cdk.json
(plus the app module's own directory when it lives elsewhere, e.g. a test app), the app
module and the CDK library version. A hit costs a few milliseconds of hashing; a miss runs
`python -m <app>` (through node: tens of seconds) into `.ftb/synth/<app>/<key>/`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# api/: the OpenAPI description the API construct reads its request model from.
WATCHED = ("infra", "handlers", "statemachine", "api", "cdk.json")
IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "cdk.out"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}
DEFAULT_APP = "infra.app"
KEEP_PER_APP = 2  # older cache entries are removed


class SynthError(Exception):
    """The app failed to synthesize (the message holds its output)."""


@dataclass(frozen=True)
class Synthesized:
    template: Path
    stack_name: str
    cached: bool
    seconds: float
    # A shared lock on the assembly while this handle is open: a running local cloud keeps it
    # so that another synth's pruning never deletes the asset directories it runs code from.
    hold: IO[str] | None = None


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        return
    for item in sorted(path.rglob("*")):
        if (
            item.is_file()
            and not IGNORED_PARTS & set(item.parts)
            and item.suffix not in IGNORED_SUFFIXES
        ):
            yield item


def _app_dir(root: Path, app: str) -> Path | None:
    """The directory of the app module (hashed too when it is outside the watched paths)."""
    module = root / Path(*app.split("."))
    for candidate in (module.with_suffix(".py"), module / "__init__.py", module / "__main__.py"):
        if candidate.is_file():
            return candidate.parent.resolve()
    return None


def cache_key(root: Path, app: str = DEFAULT_APP, context: dict[str, str] | None = None) -> str:
    digest = hashlib.sha256()
    digest.update(f"app={app}\n".encode())
    if context:
        digest.update(f"context={json.dumps(context, sort_keys=True)}\n".encode())
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        digest.update(f"aws-cdk-lib={importlib.metadata.version('aws-cdk-lib')}\n".encode())
    paths = [root / name for name in WATCHED]
    app_dir = _app_dir(root, app)
    if app_dir is not None and not any(app_dir.is_relative_to(path) for path in paths):
        paths.append(app_dir)
    for path in paths:
        for file in _files(path):
            digest.update(
                str(file.relative_to(root) if file.is_relative_to(root) else file).encode()
            )
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:20]


def find_stack(assembly: Path, stack_name: str | None = None) -> tuple[Path, str]:
    """The template of `stack_name` (or of the only stack) in a cloud assembly directory."""
    try:
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SynthError(f"{assembly} holds no cloud assembly: {error}") from error
    stacks = {}
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            props = artifact.get("properties") or {}
            name = props.get("stackName") or artifact_id
            stacks[name] = assembly / props.get("templateFile", f"{artifact_id}.template.json")
    if stack_name is not None:
        if stack_name not in stacks:
            raise SynthError(f"no stack {stack_name!r} in {assembly} (found: {', '.join(stacks)})")
        return stacks[stack_name], stack_name
    if len(stacks) != 1:
        raise SynthError(
            f"{assembly} has stacks {', '.join(stacks) or 'none'}: pick one with --stack"
        )
    ((name, path),) = stacks.items()
    return path, name


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One synth at a time per app (two test sessions or terminals may start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def synth(
    root: Path,
    app: str = DEFAULT_APP,
    *,
    stack_name: str | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
    context: dict[str, str] | None = None,
) -> Synthesized:
    """The synthesized template of `app`, from the cache when its inputs are unchanged."""
    started = time.monotonic()
    base = (cache_dir or root / ".ftb" / "synth") / app.replace(".", "_")
    key = cache_key(root, app, context)
    target = base / key
    with _lock(base.parent / f"{base.name}.lock"):
        if target.is_dir() and not force:
            template, name = find_stack(target, stack_name)
            return Synthesized(template, name, True, time.monotonic() - started, _hold(target))
        if say is not None:
            say(f"synthesizing {app} (inputs changed; cached afterwards)...")
        base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=base))
        env = {
            **os.environ,
            "CDK_OUTDIR": str(staging),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
        }
        if context:  # what `cdk -c key=value` passes to the app
            env["CDK_CONTEXT_JSON"] = json.dumps(context)
        process = subprocess.run(
            [sys.executable, "-m", app],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if process.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            output = (process.stdout + process.stderr).strip()
            raise SynthError(f"`python -m {app}` failed (exit {process.returncode}):\n{output}")
        try:
            find_stack(staging, stack_name)
        except SynthError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        _prune(base, keep=target)
        template, name = find_stack(target, stack_name)
        return Synthesized(template, name, False, time.monotonic() - started, _hold(target))


_IN_USE = ".in-use"


def _hold(assembly: Path) -> IO[str]:
    handle = (assembly / _IN_USE).open("a")
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def _in_use(assembly: Path) -> bool:
    marker = assembly / _IN_USE
    if not marker.exists():
        return False
    with marker.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _prune(base: Path, keep: Path) -> None:
    entries = sorted(
        (entry for entry in base.iterdir() if entry.is_dir() and entry != keep),
        key=lambda entry: entry.stat().st_mtime,
        reverse=True,
    )
    for entry in entries[KEEP_PER_APP - 1 :]:
        if not _in_use(entry):  # a running local cloud still runs code from it
            shutil.rmtree(entry, ignore_errors=True)
