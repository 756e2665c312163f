"""`make lock`: the two locks from pyproject.toml's ranges, then the emulator-library
contract tests (tests/contract) on what was locked.

    python3 -m tools.lock            # keep every pin the ranges still allow (add, drop, fix)
    python3 -m tools.lock --upgrade  # newest versions in range: review the diff and the tests

requirements/dev.txt is resolved first; run.txt is resolved under dev.txt as a constraint, so
the run set is the dev set's subset at the same versions. Universal (every platform, marked)
and with every file's hash, so pip can install them with --require-hashes too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

from tools import pip_config
from tools.install import LOCKS, REQUIREMENTS, ROOT

PYTHON_FLOOR = "3.11"  # pyproject.toml's requires-python


def compile_command(uv: str, extra: str, output: str, upgrade: bool) -> list[str]:
    command = [uv, "pip", "compile", "pyproject.toml", "requirements/installer.in"]
    command += ["--extra", extra, "--universal", "--python-version", PYTHON_FLOOR]
    command += ["--generate-hashes", "--quiet", "--custom-compile-command", "make lock"]
    if extra != "dev":
        command += ["--constraint", "requirements/dev.txt"]
    if upgrade:
        command.append("--upgrade")
    return [*command, "--output-file", output]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.lock", description=__doc__)
    parser.add_argument("--upgrade", action="store_true", help="newest versions in range")
    parser.add_argument("--uv", default=str(ROOT / ".venv" / "bin" / "uv"))
    args = parser.parse_args(argv)
    env, arguments = pip_config.for_uv()
    for extra, lock in (("dev", LOCKS["dev"]), ("cli", LOCKS["run"])):
        output = str(lock.relative_to(ROOT))
        print(f"lock: {output} ({'newest in range' if args.upgrade else 'current pins kept'})")
        command = compile_command(args.uv, extra, output, args.upgrade) + arguments
        if subprocess.run(command, cwd=ROOT, env=env, check=False).returncode != 0:
            return 1
    print(f"lock: done; `git diff {REQUIREMENTS.name}/` is the change to review")
    # The local cloud patches and reads moto's internals: their contract tests run on the new
    # lock before it is committed. (The folder is another change's; a missing one fails here.)
    print("lock: the emulator-library contract tests (tests/contract)")
    tests = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "tests/contract"]
    return subprocess.run(tests, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
