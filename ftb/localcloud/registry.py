"""The services the local cloud emulates, each registered once: what it provisions, what of
it a hot reload applies live or keeps, how its data is updated in place, saved and restored,
and which moto responses answer its calls (what the endpoint refuses otherwise).

Provisioning, the deploy engine, the persistence keeper and the endpoint's refusals iterate
`services()` instead of naming services; a service declares itself in one module of
ftb/localcloud/services/ (`register(Service(...))`). This module imports nothing of the
local cloud, so every layer may read it; the declarations, above them all, are loaded on the
first read (`_load`), so whoever asks sees every service.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Where the declarations live: imported on the first read of the registry.
DECLARATIONS = "ftb.localcloud.services"


@dataclass(frozen=True)
class Persistence:
    """How a service's data is saved and put back (ftb/localcloud/persistence).

    `capture(keeper)` (a StateKeeper) returns the service's part of the snapshot;
    `restore(saved, keeper, summary)` puts it back and counts what it restored into
    `summary` (a RestoreSummary).
    Captures run in `order` (lowest first), restores in the reverse order."""

    key: str  # its part of the snapshot's "services"
    capture: Callable[[Any], Any]
    restore: Callable[[Any, Any, Any], None]
    order: int = 100


@dataclass(frozen=True)
class Service:
    name: str  # its key in the saved state and in `services()`
    signing_name: str  # how its calls are signed: the endpoint's name for it
    # moto's response classes (module, class) that dispatch its operations by name: the
    # endpoint refuses what neither they nor a registered handler answer. None: its calls
    # are not vetted (they reach moto as they are).
    moto_responses: tuple[tuple[str, str], ...] | None = None
    moto_consulted: bool = True  # False: only the endpoint's handlers answer, never moto
    rest: bool = False  # a REST protocol service: calls named by botocore's model
    # Resource type -> provisioner(ctx, resource, properties) (ftb/localcloud/provision).
    provisioners: Mapping[str, Callable[..., None]] = field(default_factory=dict)
    # Types that hold data: a reload adopts them as they run, or updates them in place.
    stateful_types: frozenset[str] = frozenset()
    # Per type, the properties whose change a reload applies live (others: named, restart).
    live_properties: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Type prefixes rebuilt from the template on every reload (they hold no data).
    rebuilt_prefixes: tuple[str, ...] = ()
    # Types that hold data and are kept when the template drops them: why (named).
    kept_on_remove: Mapping[str, str] = field(default_factory=dict)
    # Types kept without a word when the template drops them.
    kept_quietly: frozenset[str] = frozenset()
    # update(ctx, old_ctx, resource, before, after) -> the commit steps of an in-place change
    update: Callable[..., list[Callable[[], None]]] | None = None
    # retire(ctx, old_ctx, logical_id) -> why it is kept ("" : the commit steps delete it)
    retire: Callable[..., tuple[str, list[Callable[[], None]]]] | None = None
    # How a reload's one line names a changed resource of a type ("queue ", "": its id only).
    nouns: Mapping[str, str] = field(default_factory=dict)
    persistence: Persistence | None = None


_SERVICES: dict[str, Service] = {}
# The tables derived from the declarations (read on every call the endpoint vets): cached,
# cleared when a service registers.
_TABLES: list[Any] = []
_LOADED = threading.Event()
_LOCK = threading.RLock()


def register(service: Service) -> Service:
    """Declare a service (once per name: a second declaration is a mistake)."""
    with _LOCK:
        if service.name in _SERVICES:
            raise ValueError(f"service {service.name!r} is registered twice")
        _SERVICES[service.name] = service
        for table in _TABLES:
            table.cache_clear()
    return service


def _load() -> None:
    if _LOADED.is_set():
        return
    with _LOCK:
        if not _LOADED.is_set():
            importlib.import_module(DECLARATIONS)
            _LOADED.set()


def services() -> list[Service]:
    """Every registered service, in registration order."""
    _load()
    return list(_SERVICES.values())


def service(name: str) -> Service:
    _load()
    return _SERVICES[name]


@functools.cache
def provisioners() -> dict[str, Callable[..., None]]:
    """Resource type -> its provisioner, over every service."""
    return {kind: fn for s in services() for kind, fn in s.provisioners.items()}


def owner(resource_type: str) -> Service | None:
    """The service that provisions or keeps `resource_type`."""
    for s in services():
        if (
            resource_type in s.provisioners
            or resource_type in s.stateful_types
            or resource_type.startswith(s.rebuilt_prefixes or ("\0",))
        ):
            return s
    return None


@functools.cache
def stateful_types() -> frozenset[str]:
    return frozenset(kind for s in services() for kind in s.stateful_types)


@functools.cache
def live_properties() -> dict[str, frozenset[str]]:
    return {kind: props for s in services() for kind, props in s.live_properties.items()}


@functools.cache
def rebuilt_prefixes() -> tuple[str, ...]:
    return tuple(prefix for s in services() for prefix in s.rebuilt_prefixes)


@functools.cache
def kept_on_remove() -> dict[str, str]:
    return {kind: why for s in services() for kind, why in s.kept_on_remove.items()}


@functools.cache
def kept_quietly() -> frozenset[str]:
    return frozenset(kind for s in services() for kind in s.kept_quietly)


@functools.cache
def moto_responses() -> dict[str, tuple[tuple[str, str], ...]]:
    """Signing name -> moto's response classes, for every service whose calls are vetted."""
    return {s.signing_name: s.moto_responses for s in services() if s.moto_responses is not None}


@functools.cache
def moto_not_consulted() -> frozenset[str]:
    return frozenset(s.signing_name for s in services() if not s.moto_consulted)


@functools.cache
def rest_services() -> frozenset[str]:
    return frozenset(s.signing_name for s in services() if s.rest)


@functools.cache
def nouns() -> dict[str, str]:
    return {kind: noun for s in services() for kind, noun in s.nouns.items()}


@functools.cache
def persisted() -> list[Persistence]:
    """What is saved, in capture order (restores run in the reverse order)."""
    return sorted(
        (s.persistence for s in services() if s.persistence is not None),
        key=lambda p: p.order,
    )


_TABLES += [
    provisioners,
    stateful_types,
    live_properties,
    rebuilt_prefixes,
    kept_on_remove,
    kept_quietly,
    moto_responses,
    moto_not_consulted,
    rest_services,
    nouns,
    persisted,
]
