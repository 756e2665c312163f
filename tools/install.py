"""`make run`, `make test`, CI and `make deploy` install through here, from the lock.

    python3 -m tools.install run      # .venv with the run set (requirements/run.txt)
    python3 -m tools.install dev      # .venv with the dev set (requirements/dev.txt) + Chromium
    python3 -m tools.install deploy   # node_modules with the CDK CLI (package-lock.json)

One line per phase, quiet otherwise; on a failure the tail of the failing command's output.
uv (locked in both sets) installs when it can, pip (`--require-hashes`) when it cannot, and
uv is given pip's registry configuration (tools/pip_config.py). Standard library only: this
runs before .venv exists. FTB_INSTALLER=pip skips uv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools import chromium, pip_config

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements"
LOCKS = {"run": REQUIREMENTS / "run.txt", "dev": REQUIREMENTS / "dev.txt"}
PACKAGE_JSON = ROOT / "package.json"
PACKAGE_LOCK = ROOT / "package-lock.json"
TAIL_LINES = 30
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


class Failed(Exception):
    """A phase failed; `output` is what the failing command printed."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


def pins(lock: Path) -> dict[str, str]:
    """{normalized name: version} of a requirements lock."""
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def requirement_block(lock: Path, name: str) -> str:
    """One package's entry of a hashed lock (its `==` line and its `--hash` lines)."""
    lines = lock.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = _PIN.match(line)
        if match and re.sub(r"[-_.]+", "-", match[1]).lower() == name:
            block = [line]
            while block[-1].rstrip().endswith("\\"):
                block.append(lines[index + len(block)])
            return "\n".join(block) + "\n"
    raise Failed(f"{name} is not in {lock.relative_to(ROOT)}: run `make lock`")


def digest(*paths: Path) -> str:
    hashed = hashlib.sha256()
    for path in paths:
        hashed.update(path.read_bytes())
    return hashed.hexdigest()


def run_quietly(command: Sequence[str | Path], env: dict[str, str] | None = None) -> str:
    """Run a command with its output held back; Failed with that output when it fails."""
    try:
        done = subprocess.run(
            [str(part) for part in command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
    except OSError as error:
        raise Failed(f"{command[0]}: {error}") from error
    if done.returncode != 0:
        raise Failed(f"{Path(str(command[0])).name} exited with {done.returncode}", done.stdout)
    return done.stdout


def tail(output: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


@dataclass
class Phase:
    title: str
    action: Callable[[], str | None]  # returns a note for the line ("uv", "pip: uv failed")


def run_phases(phases: Sequence[Phase], out: Callable[[str], None] | None = None) -> None:
    """`install [n/N] title ... 8.2 s` per phase; on failure the reason and the output tail."""

    def write(text: str) -> None:
        if out is not None:
            out(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    for number, phase in enumerate(phases, start=1):
        write(f"install [{number}/{len(phases)}] {phase.title} ... ")
        started = time.monotonic()
        try:
            note = phase.action()
        except Failed as failure:
            write(f"failed after {time.monotonic() - started:.1f} s: {failure}\n")
            if failure.output.strip():
                write(f"--- last lines of its output ---\n{tail(failure.output)}\n")
            raise
        write(f"{time.monotonic() - started:.1f} s{f' ({note})' if note else ''}\n")


# Packages whose files another locked distribution also writes: reinstalled after a uv sync.
FILE_OWNERS = ("aws-cdk-lib",)


class Venv:
    """.venv, its stamps (one per set: the digest of what that set was installed from) and
    the installer that fills it."""

    def __init__(self, path: Path, python: str = sys.executable) -> None:
        self.path = path
        self.base_python = python
        self.python = path / "bin" / "python"
        self.uv = path / "bin" / "uv"

    def stamp(self, name: str) -> Path:
        return self.path / f".installed-{name}"

    def stamped(self, name: str, wanted: str) -> bool:
        stamp = self.stamp(name)
        return stamp.exists() and stamp.read_text(encoding="utf-8").strip() == wanted

    def write_stamp(self, name: str, value: str) -> None:
        self.stamp(name).write_text(value + "\n", encoding="utf-8")

    def create(self) -> str | None:
        run_quietly([self.base_python, "-m", "venv", self.path])
        return None

    def install_uv(self) -> str | None:
        """uv as locked (the same pin in both sets), installed by the venv's pip, which
        reads pip's configuration itself."""
        with tempfile.TemporaryDirectory() as scratch:
            requirement = Path(scratch) / "uv.txt"
            requirement.write_text(requirement_block(LOCKS["run"], "uv"), encoding="utf-8")
            run_quietly([*self.pip_install(), "--require-hashes", "--no-deps", "-r", requirement])
        return None

    def sync_with_uv(self, lock: Path) -> None:
        env, arguments = pip_config.for_uv(self.base_python)
        env = {**env, "VIRTUAL_ENV": str(self.path), "UV_NO_PROGRESS": "1"}
        target: list[str | Path] = ["--python", self.python]
        sync = [self.uv, "pip", "sync", *target, "--require-hashes"]
        run_quietly([*sync, *arguments, lock], env)
        # Distributions that write the same files: uv installs in parallel, so which copy is
        # left is chance. aws-cdk.cloud-assembly-schema ships its own
        # aws_cdk/cloud_assembly_schema/, which must not replace aws-cdk-lib's (the synth's
        # messages then fail: "Unknown interface ...MetadataEntry"); reinstalled last, the
        # owner's files win, as pip's install order (dependencies first) leaves them.
        with tempfile.TemporaryDirectory() as scratch:
            owners = Path(scratch) / "owners.txt"
            blocks = [requirement_block(lock, name) for name in FILE_OWNERS if name in pins(lock)]
            if blocks:
                owners.write_text("\n".join(blocks), encoding="utf-8")
                reinstall = [self.uv, "pip", "install", *target, "--reinstall", "--no-deps"]
                run_quietly([*reinstall, "--require-hashes", *arguments, "-r", owners], env)
        # The project itself, editable (the `ftb` script; sync removes what the lock lacks):
        # built with the locked setuptools, no isolated build environment to resolve.
        editable = ["--no-deps", "--no-build-isolation", "-e", "."]
        run_quietly([self.uv, "pip", "install", *target, *arguments, *editable], env)

    def pip_install(self) -> list[str | Path]:
        return [self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]

    def install_with_pip(self, lock: Path) -> None:
        pip = self.pip_install()
        run_quietly([*pip, "--require-hashes", "--no-deps", "-r", lock])
        run_quietly([*pip, "--no-deps", "--no-build-isolation", "-e", "."])

    def install(self, lock: Path) -> str:
        """uv when it is there and works, else pip; the note says which did it."""
        if self.uv.exists() and os.environ.get("FTB_INSTALLER") != "pip":
            try:
                self.sync_with_uv(lock)
                return "uv"
            except Failed as failure:
                sys.stdout.write(f"uv failed, trying pip:\n{tail(failure.output, 10)}\n... ")
        self.install_with_pip(lock)
        return "pip"


# Left to compile on import in the run set: the CDK's 0.4 GB of generated bindings (18 s of
# CPU to compile here) of which the synth imports a few modules, and sympy, networkx and
# mpmath (6 s), which come with moto[server]'s cfn-lint and which `ftb local` never imports.
_RUN_SET_UNCOMPILED = r"/site-packages/(aws_cdk|sympy|networkx|mpmath)/"


def bytecode_command(python: Path, wanted: str) -> list[str | Path]:
    """compileall over the venv's site-packages: pip compiles at install and uv does not,
    and make exports PYTHONDONTWRITEBYTECODE (the Lambda workers run with -B), so what is not
    compiled here is compiled from source by every process that imports it."""
    site_packages = (
        python.parent.parent
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
    )
    command: list[str | Path] = [python, "-m", "compileall", "-q", "-j", "0"]
    if wanted == "run":
        command += ["-x", _RUN_SET_UNCOMPILED]
    return [*command, site_packages]


def count_packages(lock: Path) -> int:
    return len(pins(lock))


def python_phases(venv: Venv, wanted: str) -> list[Phase]:
    """What the venv lacks for the `wanted` set. The dev set holds the run set at the same
    versions (tests/tools check it), so a current dev install satisfies `run` as it is."""
    digests = {name: digest(lock, ROOT / "pyproject.toml") for name, lock in LOCKS.items()}
    # Nothing to install: the stamp is rewritten all the same, so make sees it newer than
    # the files it was checked against (a checkout touches them without changing them).
    if venv.stamped(wanted, digests[wanted]) or (
        wanted == "run" and venv.stamped("dev", digests["dev"])
    ):
        venv.write_stamp(wanted, digests[wanted])
        return []
    phases = []
    if not venv.python.exists():
        version = platform.python_version()
        phases.append(Phase(f"python environment (.venv, Python {version})", venv.create))
    locked_uv = pins(LOCKS["run"]).get("uv")
    use_uv = os.environ.get("FTB_INSTALLER") != "pip"
    if use_uv and not _uv_is(venv.uv, locked_uv):

        def install_uv() -> str | None:
            try:
                return venv.install_uv()
            except Failed as failure:  # pip then installs the packages: slower, not broken
                sys.stdout.write(f"(uv unavailable, pip will install: {tail(failure.output, 3)})")
                return "skipped"

        phases.append(Phase(f"installer (uv {locked_uv}, locked)", install_uv))
    lock = LOCKS[wanted]

    def install() -> str:
        for name in LOCKS:  # a sync replaces the other set: neither stamp holds meanwhile
            venv.stamp(name).unlink(missing_ok=True)
        note = venv.install(lock)
        venv.write_stamp(wanted, digests[wanted])
        if wanted == "dev":
            venv.write_stamp("run", digests["run"])
        return note

    def compile_bytecode() -> str | None:
        # A file that does not compile (a test fixture in some package) is no reason to stop.
        subprocess.run(
            [str(part) for part in bytecode_command(venv.python, wanted)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return None

    title = f"python packages ({wanted} set, {count_packages(lock)} locked)"
    phases.append(Phase(title, install))
    skipped = ", the CDK bindings on import" if wanted == "run" else ""
    phases.append(Phase(f"bytecode (compileall{skipped})", compile_bytecode))
    return phases


def _uv_is(uv: Path, version: str | None) -> bool:
    if not uv.exists() or version is None:
        return False
    try:
        said = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return False
    return said.stdout.split()[1:2] == [version]


def npm_dependencies(package_json: Path = PACKAGE_JSON) -> dict[str, str]:
    if not package_json.exists():
        return {}
    return dict(json.loads(package_json.read_text(encoding="utf-8")).get("dependencies", {}))


def npm_phase(with_dev: bool) -> list[Phase]:
    """`npm ci` as package-lock.json says: runtime packages only for `make run`, the CDK CLI
    too for `make deploy`. A stamp in node_modules (which npm ci empties) skips a repeat."""
    if not with_dev and not npm_dependencies():
        return []
    kind = "all" if with_dev else "runtime"
    stamp = ROOT / "node_modules" / f".ftb-installed-{kind}"
    wanted = digest(PACKAGE_JSON, PACKAGE_LOCK)
    current = [stamp, ROOT / "node_modules" / ".ftb-installed-all"]
    if any(
        path.exists() and path.read_text(encoding="utf-8").strip() == wanted for path in current
    ):
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("install: npm is required (it comes with Node.js)")
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    if not with_dev:
        command.append("--omit=dev")

    def install() -> str | None:
        run_quietly(command)
        stamp.write_text(wanted + "\n", encoding="utf-8")
        return None

    what = "with the CDK CLI" if with_dev else "runtime only"
    return [Phase(f"javascript packages (npm ci, {what})", install)]


def chromium_phase(environ: dict[str, str] | None = None) -> list[Phase]:
    machine = chromium.look(environ)
    decided = chromium.plan(machine)
    if decided is chromium.Plan.PRESENT:
        return []
    if decided is chromium.Plan.MISSING:
        raise SystemExit(f"install: {chromium.INSTALL_HINT}")
    apt_get = machine.apt_get or "apt-get"  # the plan is APT_INSTALL only with apt-get found

    def install() -> str | None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in chromium.apt_commands(apt_get):
            run_quietly(command, env)
        if chromium.plan(chromium.look(environ)) is not chromium.Plan.PRESENT:
            raise Failed(chromium.INSTALL_HINT)
        return None

    return [Phase("browser (apt-get install chromium)", install)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.install", description=__doc__)
    parser.add_argument("set", choices=("run", "dev", "deploy"))
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    args = parser.parse_args(argv)
    if args.set == "deploy":
        phases = npm_phase(with_dev=True)
    else:
        if shutil.which("node") is None:
            print("install: Node.js is required (the CDK synthesizes through it)")
            return 1
        venv = Venv(args.venv.resolve())
        phases = python_phases(venv, args.set) + npm_phase(with_dev=False)
        if args.set == "dev":
            phases += chromium_phase()
    try:
        run_phases(phases)
    except Failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
