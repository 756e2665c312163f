"""How moto dispatches an operation: by method name on its response classes (the refusals
consult it to tell what moto implements)."""

from __future__ import annotations

import functools
import importlib


def method_name(operation: str) -> str:
    """The method name moto dispatches an operation to (CreateQueue -> create_queue)."""
    from moto.core.utils import camelcase_to_underscores

    return str(camelcase_to_underscores(operation))


@functools.cache
def public_methods(module: str, class_name: str) -> frozenset[str]:
    """The public names of moto's response class `moto.<module>.<class_name>`."""
    cls = getattr(importlib.import_module(f"moto.{module}"), class_name)
    return frozenset(name for name in dir(cls) if not name.startswith("_"))
