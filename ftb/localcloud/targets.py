"""How a flag names a function, queue or mapping: `*`, its exact name or logical id, or part
of one with case and punctuation ignored (`--set-env`, `--fault`)."""

from __future__ import annotations

import re


def _normalized(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def target_matches(target: str, *names: str) -> bool:
    """True when `target` names one of `names` (a name, a logical id ...)."""
    if target == "*" or target in names:
        return True
    wanted = _normalized(target)
    return bool(wanted) and any(wanted in _normalized(name) for name in names if name)
