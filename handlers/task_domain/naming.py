"""Execution names and ARNs.

A task's first execution is named after its taskId; the n-th redrive runs as `{taskId}-r{n}`,
or, when that would exceed Step Functions' 80 characters (or the plain name is taken), as a
cut taskId, an 8-character hash of the taskId and `-r{n}`. Names are deterministic, so a
redrive that stopped half-way is resumed by running it again.
"""

from __future__ import annotations

import hashlib

from task_domain.models import TASK_ID_MAX_LENGTH

# Step Functions' limit on an execution name; a taskId uses all of it.
MAX_EXECUTION_NAME = TASK_ID_MAX_LENGTH
_HASH_CHARS = 8


def execution_arn(state_machine_arn: str, execution_name: str) -> str:
    """arn:P:states:R:A:stateMachine:NAME -> arn:P:states:R:A:execution:NAME:execution_name."""
    parts = state_machine_arn.split(":")
    if len(parts) != 7 or parts[5] != "stateMachine":
        raise ValueError(f"not a state machine ARN: {state_machine_arn}")
    return ":".join([*parts[:5], "execution", parts[6], execution_name])


def execution_name_of(arn: str) -> str:
    """The execution name at the end of an execution ARN."""
    return arn.rsplit(":", 1)[-1]


def derived_name(task_id: str, redrive: int, *, hashed: bool = False) -> str:
    """The execution name of the `redrive`-th redrive (1-based) of a task."""
    suffix = f"-r{redrive}"
    plain = f"{task_id}{suffix}"
    if not hashed and len(plain) <= MAX_EXECUTION_NAME:
        return plain
    digest = hashlib.sha256(task_id.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    keep = MAX_EXECUTION_NAME - len(suffix) - len(digest) - 1
    return f"{task_id[:keep]}-{digest}{suffix}"
