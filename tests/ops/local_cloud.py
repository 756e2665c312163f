"""`ftb local` for the operator-command tests, plus one hook: "deploy the fix".

SIGUSR1 sets process-task's FAILURE_RATE to 0 in the running cloud: the Lambda runtime
replaces the function (running invocations finish, idle workers end, new ones start with
the new environment). The tests can then redrive failed tasks to success without a restart,
which would lose every task. On AWS the same step is a deploy (`-c failureRate=0`).

Run as `python -m tests.ops.local_cloud [ftb local options]`.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from types import FrameType
from typing import Any

from ftb import cli, local

FIXED_ENVIRONMENT = {"FAILURE_RATE": "0"}


class FixableLocalCloud(local.LocalCloud):
    def start(self) -> None:
        super().start()
        signal.signal(signal.SIGUSR1, self._deploy_fix)

    def _deploy_fix(self, _signum: int, _frame: FrameType | None) -> None:
        runtime: Any = self.runtime
        for spec in runtime.functions():
            if spec.name.endswith("process-task"):
                fixed = {**spec.environment, **FIXED_ENVIRONMENT}
                runtime.register(dataclasses.replace(spec, environment=fixed))
                print(f"deployed the fix: {spec.name} {FIXED_ENVIRONMENT}", flush=True)


local.LocalCloud = FixableLocalCloud  # type: ignore[misc]

if __name__ == "__main__":
    sys.exit(cli.main(["local", *sys.argv[1:]]))
