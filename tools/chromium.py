"""The browser the browser tests drive: Debian's Chromium, installed by apt when it can be."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from enum import Enum

# The names to look for, first found wins; FTB_CHROMIUM replaces them (a path or a name).
DEFAULT_NAMES = ("/usr/bin/chromium", "chromium", "chromium-browser")
INSTALL_HINT = (
    "Chromium is missing (the browser tests drive it): install it, e.g. "
    "`sudo apt-get install chromium` on Debian/Ubuntu, or set FTB_CHROMIUM to its path"
)


class Plan(Enum):
    PRESENT = "present"
    APT_INSTALL = "apt-get install chromium"
    MISSING = "missing"


@dataclass(frozen=True)
class Machine:
    found: str | None  # the browser's path, None when none of the names resolves
    is_root: bool
    apt_get: str | None  # apt-get's path


def names(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    chosen = (environ if environ is not None else os.environ).get("FTB_CHROMIUM")
    return (chosen,) if chosen else DEFAULT_NAMES


def look(environ: dict[str, str] | None = None) -> Machine:
    found = next((path for name in names(environ) if (path := shutil.which(name))), None)
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return Machine(found=found, is_root=is_root, apt_get=shutil.which("apt-get"))


def plan(machine: Machine) -> Plan:
    """Present: nothing to do. Root with apt-get: install Debian's package. Otherwise the
    user has to (no sudo prompt in the middle of `make test`)."""
    if machine.found:
        return Plan.PRESENT
    if machine.is_root and machine.apt_get:
        return Plan.APT_INSTALL
    return Plan.MISSING


def apt_commands(apt_get: str) -> list[list[str]]:
    """The package lists first: a fresh container has none, and `install` alone then fails."""
    return [[apt_get, "update", "-qq"], [apt_get, "install", "-y", "-qq", "chromium"]]
