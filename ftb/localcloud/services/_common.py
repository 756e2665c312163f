"""What the service declarations share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftb.localcloud.provision import PROVISIONERS


def provided(*types: str) -> dict[str, Callable[..., None]]:
    """The provisioners of `types`, as their modules in ftb/localcloud/provision define them."""
    return {kind: PROVISIONERS[kind] for kind in types}


def ignore(_: Any) -> None:
    """A commit step's result is not used."""
