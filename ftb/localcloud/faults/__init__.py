"""Fault injection for the local cloud: off unless `ftb local --faults FILE` / `--fault K=V`.

`config.py` (what was asked for), `injector.py` (the faults of one running cloud: the hooks
the runtime, the endpoint and the pollers consult), `bucket.py` (the token bucket),
`worker_hooks.py` (inside a worker process: loaded by path, standard library only).
"""

from ftb.localcloud.faults.bucket import TokenBucket
from ftb.localcloud.faults.config import (
    CrashRule,
    FaultConfig,
    FaultConfigError,
    FunctionErrorRule,
)
from ftb.localcloud.faults.injector import (
    CONTROL_PATH,
    INJECTED_ERROR_TYPE,
    START_EXECUTION_TARGET,
    Faults,
    throttling_response,
)
from ftb.localcloud.targets import target_matches

__all__ = [
    "CONTROL_PATH",
    "INJECTED_ERROR_TYPE",
    "START_EXECUTION_TARGET",
    "CrashRule",
    "FaultConfig",
    "FaultConfigError",
    "Faults",
    "FunctionErrorRule",
    "TokenBucket",
    "target_matches",
    "throttling_response",
]
