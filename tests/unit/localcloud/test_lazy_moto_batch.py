"""moto's Batch backend (and with it moto's EC2 models, about 100 MB) is imported when it is
used, not when moto's Step Functions engine is."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from ftb.localcloud.endpoint.lazy_moto_batch import defer_moto_batch

    defer_moto_batch()
    # The engine's service factory imports its Batch integration (moto.batch.utils).
    import importlib
    importlib.import_module(
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
        ".state_task_service_factory"
    )
    print("ec2 at engine import:", "moto.ec2.models" in sys.modules)

    from moto import backends
    from moto.batch import batch_backends
    same = backends.get_backend("batch") is batch_backends
    print("backend:", type(batch_backends).__name__, same)
    print("ec2 after use:", "moto.ec2.models" in sys.modules)
    """
)


def test_moto_batch_is_loaded_on_first_use_only() -> None:
    # Given a fresh interpreter where moto.batch is deferred
    # When moto's Step Functions engine is imported, then the Batch backend asked for
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=300
    ).stdout

    # Then the engine's import did not load the EC2 models, and the backend is the real one
    assert "ec2 at engine import: False" in output
    assert "backend: BackendDict True" in output
    assert "ec2 after use: True" in output
