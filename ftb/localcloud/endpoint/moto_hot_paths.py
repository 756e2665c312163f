"""moto's helpers that its services call on every request, made cheap; same results.

A profile of the endpoint's GIL holder (`py-spy record --gil`, 400 tasks end to end) put
these near the top:

- Clock helpers, 14 % of the samples: `unix_time()` builds `utcnow()` and
  `utcfromtimestamp(0)` (two datetimes and an import statement) to return what `time.time()`
  returns. SQS calls it twice per message in the queue on every receive (`Queue.messages`
  checks each message's `visible` and `delayed`), so a backlog makes every poll slower.
- JSONPath parsing, 11 %: the Step Functions engine parses the same paths (`$.taskId`,
  `$.error`) with jsonpath_ng's PLY parser for every state of every execution. A parsed path
  is only read when it is applied, so one parse per path text serves every execution.
- `method_names_from_class`, 1.4 %: `inspect.getmembers` over the response class, for every
  request, to find the action's method. Classes do not gain methods while the server runs.

moto imports these helpers by name (`from moto.core.utils import unix_time_millis`) into a
hundred modules, so each replacement is made on `moto.core.utils` before the services'
modules are imported (the endpoint imports them lazily, on their first request) and on every
moto module already imported that holds the original.
"""

from __future__ import annotations

import datetime
import functools
import sys
import threading
import time
from typing import Any

_EPOCH = datetime.datetime(1970, 1, 1)
_lock = threading.Lock()
_installed = False


def unix_time(dt: datetime.datetime | None = None) -> float:
    """Seconds since the epoch of a naive UTC datetime, or now (moto's `unix_time`)."""
    if dt is None:
        return time.time()
    delta = dt - _EPOCH
    return (delta.days * 86400) + (delta.seconds + (delta.microseconds / 1e6))


def unix_time_millis(dt: datetime.datetime | None = None) -> float:
    return unix_time(dt) * 1000.0


def utcnow() -> datetime.datetime:
    """Now, naive UTC (moto's `utcnow`, without its per-call import)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@functools.cache
def _method_names(clazz: type) -> tuple[str, ...]:
    return tuple(_ORIGINALS["method_names_from_class"](clazz))


def method_names_from_class(clazz: object) -> list[str]:
    return list(_method_names(clazz))  # type: ignore[arg-type]


_ORIGINALS: dict[str, Any] = {}


def _cached_parse(parse: Any) -> Any:
    cached = functools.lru_cache(maxsize=1024)(parse)  # path texts of the definitions in use

    @functools.wraps(parse)
    def parse_once(text: str) -> Any:
        return cached(text) if isinstance(text, str) else parse(text)

    return parse_once


def _replace_everywhere(name: str, original: Any, replacement: Any) -> None:
    for module_name, module in list(sys.modules.items()):
        # The module's own namespace, not getattr: a module with a __getattr__ (a deferred
        # package, deferred_packages.py) would run its whole import to answer.
        namespace = getattr(module, "__dict__", {})
        if module_name.startswith("moto") and namespace.get(name) is original:
            setattr(module, name, replacement)


def install_moto_hot_paths() -> None:
    """Replace the helpers above in moto (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.core import utils

        replacements = {
            "unix_time": unix_time,
            "unix_time_millis": unix_time_millis,
            "utcnow": utcnow,
            "method_names_from_class": method_names_from_class,
        }
        for name, replacement in replacements.items():
            _ORIGINALS[name] = getattr(utils, name)
            _replace_everywhere(name, _ORIGINALS[name], replacement)

        from moto.stepfunctions.parser.asl.component.common.path import result_path
        from moto.stepfunctions.parser.asl.utils import json_path

        for module in (json_path, result_path):
            module.parse = _cached_parse(module.parse)  # type: ignore[attr-defined]
        _installed = True
