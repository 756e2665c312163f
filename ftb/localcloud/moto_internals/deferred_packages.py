"""moto packages whose `__init__` runs when something first uses the package, not when a
submodule of it is imported.

moto's Step Functions engine imports `moto.batch.utils` for one enum (the Batch task's job
states). Importing a submodule runs its package's `__init__` first, and moto.batch's imports
its models, which import moto.ec2, whose models read EC2's instance-type catalogue and build
three botocore sessions to list regions: about 0.85 s of CPU, the largest single part of a
cached `ftb local` start, for a service the local cloud never calls at start-up.

A deferred package is the real package module, registered with its real spec and path, so
its submodules import as usual; the first attribute it does not have yet (`batch_backends`,
when moto's dispatcher or anything else asks for the backend) runs its `__init__` then, in
full, exactly as an import would have. Nothing is stubbed: only the moment changes.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

# Measured (python -X importtime): the engine's import of moto.batch.utils costs 0.85 s of
# CPU through moto.batch's __init__; nothing else the engine imports comes close.
ENGINE_DEFERRED_PACKAGES = ("moto.batch",)

_lock = threading.RLock()


class _DeferredPackage(types.ModuleType):
    """A package module whose `__init__` has not run yet (see the module docstring)."""

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes the module does not have: the import system's own
        # (__path__, __spec__, a submodule once imported) never get here.
        with _lock:
            if type(self) is _DeferredPackage:
                self.__class__ = types.ModuleType  # type: ignore[assignment]  # before exec: its imports see a plain module
                spec = self.__spec__
                assert spec is not None and spec.loader is not None
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    self.__class__ = _DeferredPackage  # as a failed import: the next use retries
                    raise
        return object.__getattribute__(self, name)


def defer_package_init(name: str) -> bool:
    """Register package `name` with its `__init__` deferred; False when it is already imported
    (or is not a package): then nothing changes."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)  # imports the parents, not `name`
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _DeferredPackage
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return True


def is_deferred(name: str) -> bool:
    """True while package `name` is registered and its `__init__` has not run."""
    return type(sys.modules.get(name)) is _DeferredPackage


def defer_engine_packages() -> None:
    """Defer `ENGINE_DEFERRED_PACKAGES`, before the engine imports a submodule of one."""
    for name in ENGINE_DEFERRED_PACKAGES:
        defer_package_init(name)


def deferral_problems() -> list[str]:
    """The deferred packages that are no longer packages of the installed moto (the engine
    would then import their `__init__` at start again: slower, not wrong, but a change)."""
    problems = []
    for name in ENGINE_DEFERRED_PACKAGES:
        module = sys.modules.get(name)
        if module is not None:
            is_package = hasattr(module, "__path__")
        else:
            spec = importlib.util.find_spec(name)
            is_package = spec is not None and spec.submodule_search_locations is not None
        if not is_package:
            problems.append(f"{name} is not a package (its __init__ cannot be deferred)")
    return problems
