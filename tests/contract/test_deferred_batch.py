"""moto.batch with its __init__ deferred (moto_internals/deferred_packages.py) against a plain
import: the same package once used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_DESCRIBE = """
import json, sys
import moto.batch.utils as utils
package = sys.modules["moto.batch"]
names = sorted(name for name in vars(package) if not name.startswith("__"))
backends = package.batch_backends
names_after = sorted(name for name in vars(package) if not name.startswith("__"))
print(json.dumps({
    "job_status": sorted(member.name for member in utils.JobStatus),
    "names": names_after,
    "backend_type": type(backends).__name__,
    "service": backends.service_name,
    "backend": backends.backend.__name__,
}))
"""


def _run(prelude: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "handlers")])}
    out = subprocess.run(
        [sys.executable, "-c", prelude + _DESCRIBE],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_deferred_moto_batch_is_the_package_an_import_gives() -> None:
    # Given moto.batch imported plainly, and moto.batch deferred as the engine has it
    plain = _run("")
    deferred = _run(
        "from ftb.localcloud.moto_internals.deferred_packages import defer_engine_packages\n"
        "defer_engine_packages()\n"
    )
    # When each is used (a submodule's enum, then the backends)
    # Then both hold the same names, enum and backends
    assert deferred == plain
