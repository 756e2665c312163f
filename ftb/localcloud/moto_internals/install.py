"""Every patch of moto, installed at once (the endpoint's start; the bare engine's bench)."""

from __future__ import annotations

from ftb.localcloud.moto_internals.engine_caches import install_engine_caches
from ftb.localcloud.moto_internals.hot_paths import install_hot_paths
from ftb.localcloud.moto_internals.sqs import install_race_fixes
from ftb.localcloud.moto_internals.sqs_races import install_sqs_race_fixes


def install_patches() -> None:
    """Install every patch of `registry.PATCHES` (idempotent). Raises `WallBroken` when a
    target does not have the shape its patch expects."""
    install_engine_caches()  # first: it defers moto.batch before the engine's imports
    install_hot_paths()
    install_race_fixes()
    install_sqs_race_fixes()
