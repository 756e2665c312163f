"""The wall's helper: every patch of moto goes through `replace`, and every internal the local
cloud patches or reads is a `Target` whose shape `check` verifies before `ftb local` starts.

moto promises nothing about its internals. A patch made by plain assignment to a renamed
attribute would add a new, unused attribute and leave moto's original in place: the speed-up
or the race fix would be gone without a sound. Here each target says what it expects (a
function with these parameters, a property, a class with these fields...), `replace` refuses
to patch a target of another shape, and `check` lists every target that moved, so an upgrade
of moto fails at start with one message naming the version and each target.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

_MISSING = object()
_lock = threading.Lock()
# (id of the owner, attribute) -> the value `replace` found there (moto's original), and the
# replacement it put there.
_originals: dict[tuple[int, str], Any] = {}
_replacements: dict[tuple[int, str], Any] = {}


class Shape(Protocol):
    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this shape, or None when it fits."""


@dataclass(frozen=True)
class Function:
    """A function or method whose parameters are these names, in this order (self excluded)."""

    params: tuple[str, ...]

    def problem(self, value: Any) -> str | None:
        function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
        if not callable(function):
            return f"is {type(value).__name__}, expected a function"
        try:
            names = [
                p.name
                for p in inspect.signature(function).parameters.values()
                if p.name not in ("self", "cls")
            ]
        except (TypeError, ValueError):
            return "has no readable signature"
        if tuple(names) != self.params:
            return f"takes ({', '.join(names)}), expected ({', '.join(self.params)})"
        return None


@dataclass(frozen=True)
class Property:
    """A property (read through its getter)."""

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, property):
            return f"is {type(value).__name__}, expected a property"
        return None


@dataclass(frozen=True)
class Instance:
    """A value of this type (module path and class name: the type may be moto's own)."""

    module: str
    name: str

    def problem(self, value: Any) -> str | None:
        kind = getattr(importlib.import_module(self.module), self.name)
        if not isinstance(value, kind):
            return f"is {type(value).__name__}, expected {self.module}.{self.name}"
        return None


@dataclass(frozen=True)
class Fields:
    """A class whose instances carry these attributes: a class attribute, a property or a
    method of that name, or an assignment `self.<name> = ...` in the source of the module of
    the class or of one of its bases (instance fields exist only on instances, which the
    check cannot build for every class), and, when given, a constructor taking these keyword
    names."""

    names: tuple[str, ...]
    init: tuple[str, ...] | None = None

    def problem(self, value: Any) -> str | None:
        # The source of the class's module, not of the class: inspect.getsource(cls) parses
        # the module's syntax tree to find the class, 1 s for these classes at each start.
        if not inspect.isclass(value):
            return f"is {type(value).__name__}, expected a class"
        sources = []
        for cls in value.__mro__:
            if cls.__module__ == "builtins":
                continue
            text = _module_source(cls)
            if text is None:
                return f"has no readable source ({cls.__qualname__})"
            sources.append(text)
        text = "\n".join(sources)
        missing = [
            name
            for name in self.names
            if not hasattr(value, name)
            and not re.search(rf"\bself\.{re.escape(name)}\s*(?::[^=\n]+)?=(?!=)", text)
        ]
        problems = [f"has no field {', '.join(missing)}"] if missing else []
        if self.init is not None:
            params = set(inspect.signature(value.__init__).parameters)
            absent = [name for name in self.init if name not in params]
            if absent:
                problems.append(f"its constructor takes no {', '.join(absent)}")
        return "; ".join(problems) or None


@functools.cache
def _source_file_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as source:
            return source.read()
    except OSError:
        return None


def _module_source(cls: type) -> str | None:
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        return None
    return _source_file_text(path) if path is not None else None


@dataclass(frozen=True)
class Present:
    """Anything at all: the attribute must exist (a module-level name read as is)."""

    def problem(self, value: Any) -> str | None:
        return None


@dataclass(frozen=True)
class Target:
    """One internal of moto: `module`'s `path` (dotted below the module: "Queue.visible"),
    expected to have `expect`'s shape; `why` says what the local cloud does with it."""

    module: str
    path: str
    expect: Shape
    why: str

    @property
    def name(self) -> str:
        return f"{self.module}.{self.path}"

    def owner(self) -> Any:
        """The object holding the attribute (the module, or a class in it)."""
        owner: Any = importlib.import_module(self.module)
        for part in self.path.split(".")[:-1]:
            owner = _static(owner, part)
            if owner is _MISSING:
                raise LookupError(part)
        return owner

    @property
    def attribute(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def problem(self) -> str | None:
        """What is wrong with the target on the installed moto, or None."""
        try:
            owner = self.owner()
        except ImportError as error:
            return f"cannot be imported ({error})"
        except LookupError as error:
            return f"is missing ({error} not found)"
        value = original(owner, self.attribute)
        if value is _MISSING:
            return "is missing"
        try:
            return self.expect.problem(value)
        except Exception as error:  # a shape that cannot even be read has changed too
            return f"cannot be checked ({type(error).__name__}: {error})"


class WallBroken(RuntimeError):
    """The installed moto does not have a target the local cloud patches or reads."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(refusal_message(problems))
        self.problems = problems


def _static(owner: Any, attribute: str) -> Any:
    """The attribute as stored (a property object, a function): without running a module's
    `__getattr__` (a deferred package would run its whole import to answer)."""
    try:
        return inspect.getattr_static(owner, attribute)
    except AttributeError:
        return _MISSING


def original(owner: Any, attribute: str) -> Any:
    """moto's own value of `owner.attribute`: as found before `replace` patched it, while our
    replacement is still there; otherwise what is there now (_MISSING when nothing is)."""
    current = _static(owner, attribute)
    key = (id(owner), attribute)
    with _lock:
        if key in _replacements and _replacements[key] is current:
            return _originals[key]
    return current


def replace(target: Target, replacement: Any, owner: Any = None) -> Any:
    """Put `replacement` at the target (on `owner` when given: a module that imported the
    target's value by name) after checking the target's shape there; returns the original.
    Idempotent: patching again keeps the first original."""
    holder = target.owner() if owner is None else owner
    value = original(holder, target.attribute)
    problem = "is missing" if value is _MISSING else target.expect.problem(value)
    if problem is not None:
        raise WallBroken([f"{target.name} {problem}"])
    key = (id(holder), target.attribute)
    with _lock:
        _originals[key] = value
        setattr(holder, target.attribute, replacement)
        _replacements[key] = _static(holder, target.attribute)
    return value


def moto_version() -> str:
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return "not installed"


def check(targets: Iterable[Target]) -> list[str]:
    """Every target whose shape differs on the installed moto, as '<target> <problem>'."""
    problems = []
    for target in targets:
        problem = target.problem()
        if problem is not None:
            problems.append(f"{target.name} {problem}")
    return problems


def refusal_message(problems: list[str]) -> str:
    lines = [
        f"ftb local: the installed moto {moto_version()} does not have what the local cloud "
        "patches or reads (ftb/localcloud/moto_internals/):",
        *(f"  - {problem}" for problem in problems),
        "Install the locked version (make run), or adapt moto_internals/ to this version and "
        "run its contract tests (make lock).",
    ]
    return "\n".join(lines)
