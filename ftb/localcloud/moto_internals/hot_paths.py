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

from ftb.localcloud.moto_internals import registry
from ftb.localcloud.moto_internals.wall import Target, original, replace

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
    target = registry.METHOD_NAMES
    return tuple(original(target.owner(), target.attribute)(clazz))


def method_names_from_class(clazz: object) -> list[str]:
    return list(_method_names(clazz))  # type: ignore[arg-type]


def _cached_parse(parse: Any) -> Any:
    cached = functools.lru_cache(maxsize=1024)(parse)  # path texts of the definitions in use

    @functools.wraps(parse)
    def parse_once(text: str) -> Any:
        return cached(text) if isinstance(text, str) else parse(text)

    return parse_once


def _replace_everywhere(target: Target, replacement: Any) -> None:
    """`target` on its module, then on every moto module that imported it by name."""
    found = original(target.owner(), target.attribute)
    replace(target, replacement)
    for module_name, module in list(sys.modules.items()):
        # The module's own namespace, not getattr: a module with a __getattr__ (a deferred
        # package, deferred_packages.py) would run its whole import to answer.
        namespace = getattr(module, "__dict__", {})
        if module_name.startswith("moto") and namespace.get(target.attribute) is found:
            replace(target, replacement, owner=module)


def install_hot_paths() -> None:
    """Replace the helpers above in moto (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _replace_everywhere(registry.UNIX_TIME, unix_time)
        _replace_everywhere(registry.UNIX_TIME_MILLIS, unix_time_millis)
        _replace_everywhere(registry.UTCNOW, utcnow)
        _replace_everywhere(registry.METHOD_NAMES, method_names_from_class)
        for target in (registry.JSON_PATH_PARSE, registry.RESULT_PATH_PARSE):
            replace(target, _cached_parse(original(target.owner(), target.attribute)))
        _installed = True
