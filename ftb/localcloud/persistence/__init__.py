"""What a restart of the local cloud keeps: snapshots of its services' state under `.ftb/`.

One module per service reads and writes moto's backends in this process (`sqs`, `dynamodb`,
`stepfunctions`, `logs`), plus the runtime's configuration changes (`functions`) and the
fault injector's counters (`faults`); `shape` says whether a snapshot fits a template; `store`
writes snapshots atomically; `quiesce` makes a snapshot one consistent moment; `drain` orders a
graceful stop; `keeper` ties them to a running cloud (load, restore, checkpoints, save).
"""

from ftb.localcloud.persistence.drain import DEFAULT_DRAIN_SECONDS, DrainResult, drain
from ftb.localcloud.persistence.keeper import (
    DEFAULT_CHECKPOINT_SECONDS,
    CheckpointHealth,
    IncompatibleSnapshot,
    RestoreSummary,
    SaveFigures,
    StateKeeper,
)
from ftb.localcloud.persistence.store import SnapshotError, SnapshotStore, state_directory

__all__ = [
    "DEFAULT_CHECKPOINT_SECONDS",
    "DEFAULT_DRAIN_SECONDS",
    "CheckpointHealth",
    "DrainResult",
    "IncompatibleSnapshot",
    "RestoreSummary",
    "SaveFigures",
    "SnapshotError",
    "SnapshotStore",
    "StateKeeper",
    "drain",
    "state_directory",
]
