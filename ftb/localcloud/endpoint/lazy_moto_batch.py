"""`moto.batch` imported when it is used, not when moto's Step Functions engine is.

The engine's service factory imports every service integration, and its Batch integration
imports `moto.batch.utils` for one enum; importing that runs `moto/batch/__init__.py`, which
imports the Batch backend, which imports moto's EC2 models, which load every instance type
and every region's instance type offerings (about 14 MB of JSON) at import: about 100 MB
of the endpoint's memory for a service the local cloud does not serve.

`moto.batch` is registered as a package whose submodules import as usual (`__path__` is
its folder), and whose own body (the backend) runs on first access to any of its names
(PEP 562 module `__getattr__`), as a plain import would have run it. A state machine with a
Batch task, or anything that asks for `moto.batch.batch_backends`, gets the real backend.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

_NAME = "moto.batch"
_lock = threading.RLock()


def defer_moto_batch() -> None:
    """Register the deferred `moto.batch` (no-op once it, or the real one, is imported)."""
    with _lock:
        if _NAME in sys.modules:
            return
        spec = importlib.util.find_spec(_NAME)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return
        module = importlib.util.module_from_spec(spec)
        loaded = False

        def load(name: str) -> Any:
            nonlocal loaded
            with _lock:
                if not loaded:
                    loaded = True
                    del module.__getattr__  # type: ignore[attr-defined]
                    assert spec.loader is not None
                    spec.loader.exec_module(module)  # the package's own body, once
            try:
                return module.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {_NAME!r} has no attribute {name!r}") from None

        module.__getattr__ = load  # type: ignore[method-assign]
        sys.modules[_NAME] = module
        parent = sys.modules.get("moto")
        if isinstance(parent, types.ModuleType):
            parent.batch = module  # type: ignore[attr-defined]
