"""Hot reload: a change to the app's sources reaches the running local cloud, without a restart.

Two ways, like `cdk watch`:
- code only (every changed file inside a function's code source, e.g. handlers/): the
  source is copied and swapped into the functions built from it, with no synth (the
  template would differ only by the asset's hash);
- anything else (infra/, statemachine/, api/, cdk.json, the app module): re-synthesize
  (`synth.py`, cached), and apply the new template through the deploy engine
  (ftb/localcloud/deploy), the one that applied the template at the start.
A version that does not compile, does not import, or does not synthesize is not applied:
one message says why, and the cloud keeps running the last good version.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Protocol

from ftb.localcloud import synth as synthesis
from ftb.localcloud.deploy import Outcome, ReloadError, RunningStack, swap_functions
from ftb.localcloud.hot_reload.code_sources import copy_source, find_sources
from ftb.localcloud.hot_reload.imports import functions_using
from ftb.localcloud.hot_reload.watcher import SourceWatcher
from ftb.localcloud.provision import ProvisionError
from ftb.localcloud.template import Template, TemplateError, load_template


class AppOptions(Protocol):
    """What the reloader reads of `ftb local`'s options: where the app is, how to synth it."""

    root: Path
    app: str
    stack: str | None
    context: dict[str, str]


PREFIX = "hot reload:"
# Lines of a failed synth's output shown with its message (the rest is the CDK's noise).
SYNTH_TAIL_LINES = 6


def watched_paths(root: Path, app: str) -> list[Path]:
    """What the template is built from: synth's cache inputs."""
    paths = [root / name for name in synthesis.WATCHED]
    app_dir = synthesis._app_dir(root, app)
    if app_dir is not None and not any(app_dir.is_relative_to(p.resolve()) for p in paths):
        paths.append(app_dir)
    return paths


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or path.is_relative_to(directory)


def _is_handler_module(path: Path, source: Path, handler: str) -> bool:
    """Whether `path` is the module of a handler string ("process_task.handler") in `source`."""
    module = Path(*handler.split(".")[:-1])
    return path in (source / module.with_suffix(".py"), source / module / "__init__.py")


def compile_errors(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Python files among `paths` that do not compile, with why ("line 3: invalid syntax")."""
    errors = []
    for path in sorted(paths):
        if path.suffix != ".py" or not path.is_file():
            continue
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            errors.append((path, f"line {error.lineno}: {error.msg}"))
        except (ValueError, OSError) as error:  # null bytes, unreadable
            errors.append((path, str(error)))
    return errors


class HotReloader:
    """Watches the cloud's sources and applies each change; `stop()` ends it."""

    def __init__(
        self,
        running: RunningStack,
        apply: Callable[[Template], Outcome],
        options: AppOptions,
        say: Callable[[str], None],
        code_swapped: Callable[[], None] = lambda: None,
    ) -> None:
        """`apply`: the owner's way to apply a new template (the deploy engine, then its
        state file); `code_swapped`: told when functions' code was swapped without one."""
        self.running = running
        self.apply = apply
        self.options = options
        self.say = say
        self.code_swapped = code_swapped
        self.synth_holds: list[IO[str]] = []  # their assets run while this process does
        self.root = options.root.resolve()
        self.paths = [path.resolve() for path in watched_paths(self.root, options.app)]
        app_dir = synthesis._app_dir(self.root, options.app)
        self._app_dir = app_dir
        self._copies = itertools.count(1)
        self._lock = threading.Lock()
        self.sources: dict[str, Path] = {}  # function logical id -> its code's source directory
        self._stopped = threading.Event()
        self._watcher = SourceWatcher(self.paths, self._changed, self._watch_failed)

    def start(self) -> None:
        self._map_sources()
        self._watcher.start()

    def stop(self) -> None:
        self._stopped.set()  # a synth still running is not applied to a stopping cloud
        self._watcher.stop()

    # -- where code comes from ------------------------------------------------------------

    def _map_sources(self) -> None:
        """Match each function's code directory to its source directory (by content)."""
        stack = self.running.stack
        if stack is None:
            return
        code_dirs = {lid: Path(spec.code_dir) for lid, spec in stack.functions.items()}
        found = find_sources(code_dirs.values(), self.paths)
        self.sources = {}
        for lid, code_dir in code_dirs.items():
            source = found.get(code_dir)
            # A source that holds the app module is the app itself: its changes need a synth.
            if source is not None and not (
                self._app_dir is not None and _inside(self._app_dir, source)
            ):
                self.sources[lid] = source

    # -- a change ---------------------------------------------------------------------------

    def _changed(self, paths: set[Path]) -> None:
        started = time.monotonic()
        with self._lock:
            if self._stopped.is_set():
                return
            try:
                summary = self._reload({path.resolve() for path in paths})
            except ReloadError as error:
                if self._stopped.is_set():  # Ctrl-C interrupted the synth: nothing to say
                    return
                self.say(f"{PREFIX} NOT applied, still running the last good version: {error}")
                return
            except Exception as error:  # never take the cloud down over a reload
                self.say(
                    f"{PREFIX} NOT applied, still running the last good version: "
                    f"unexpected {error!r}"
                )
                return
            if summary is None:
                return
            first, *rest = summary.split("\n")
            lines = [f"{PREFIX} {first} (in {time.monotonic() - started:.1f} s)"]
            self.say("\n".join(lines + [f"{PREFIX}   {line}" for line in rest]))

    def _watch_failed(self, error: BaseException) -> None:
        self.say(f"{PREFIX} the file watcher stopped ({error!r}); restart to reload again")

    def _reload(self, paths: set[Path]) -> str | None:
        changed = ", ".join(self._relative(path) for path in sorted(paths)[:3])
        if len(paths) > 3:
            changed += f" and {len(paths) - 3} more"
        errors = compile_errors(paths)
        if errors:
            raise ReloadError(
                "; ".join(
                    f"{self._relative(path)} does not compile ({why})" for path, why in errors
                )
            )
        affected = self._code_only(paths)
        if affected is not None:
            # Only the functions whose code the edit reaches are swapped and named (imports.py).
            stack = self.running.stack
            assert stack is not None
            handlers = {lid: stack.functions[lid].handler for lid in affected}
            affected = functions_using(affected, handlers, paths)
            if not affected:
                return f"{changed} -> no function imports it: nothing to swap"
            return f"{changed} -> {self._swap_code(affected, paths)}"
        return f"{changed} -> {self._resynthesize()}"

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def _code_only(self, paths: set[Path]) -> dict[str, Path] | None:
        """Function logical id -> source, when every changed file is code of some function
        (no synth needed); None when the template may change."""
        sources = set(self.sources.values())
        if not sources or not all(any(_inside(p, s) for s in sources) for p in paths):
            return None
        return {
            lid: source
            for lid, source in self.sources.items()
            if any(_inside(path, source) for path in paths)
        }

    def _swap_code(self, affected: dict[str, Path], changed: set[Path]) -> str:
        running = self.running
        stack = running.stack
        assert stack is not None
        work_dir = running.work_dir / "hot-reload"
        copies: dict[Path, Path] = {}
        for source in sorted(set(affected.values())):
            target = work_dir / f"{next(self._copies):04d}-{source.name}"
            copies[source] = copy_source(source, target)
        specs, bases = [], {}
        for lid, source in sorted(affected.items()):
            base = stack.functions[lid]
            current = running.runtime.get(base.name)
            specs.append(dataclasses.replace(current, code_dir=copies[source]))
            bases[lid] = dataclasses.replace(base, code_dir=copies[source])
        first = {
            spec.name
            for spec in specs
            if any(
                _inside(path, source) and _is_handler_module(path, source, spec.handler)
                for path in changed
                for source in copies
            )
        }
        swap_functions(running, specs, first)  # ReloadError when the new code does not import
        stack.functions.update(bases)
        self.code_swapped()  # the new configuration is the template's, not a hand's
        names = sorted(running.short_name(spec.name) for spec in specs)
        return f"code of {', '.join(names)} swapped"

    def _resynthesize(self) -> str:
        options = self.options
        try:
            result = synthesis.synth(
                self.root, options.app, stack_name=options.stack, context=options.context
            )
        except synthesis.SynthError as error:
            raise ReloadError(_synth_message(str(error))) from None
        if result.hold is not None:
            self.synth_holds.append(result.hold)
        if self._stopped.is_set():
            raise ReloadError("the cloud is stopping")
        try:
            template = load_template(result.template, result.stack_name)
            outcome = self.apply(template)
        except (TemplateError, ProvisionError) as error:
            raise ReloadError(str(error)) from None
        self._map_sources()
        how = "synth cached" if result.cached else f"synthesized in {result.seconds:.1f} s"
        parts = outcome.applied or ["no change to the running stack"]
        return "\n".join(
            [f"{how}; {'; '.join(parts)}", *(f"not applied: {named}" for named in outcome.named)]
        )


def _synth_message(error: str) -> str:
    """The first line and the end of a failed synth's output (where Python puts the error)."""
    head, _, output = error.partition("\n")
    lines = [line for line in output.splitlines() if line.strip()]
    tail = "\n".join(f"    {line}" for line in lines[-SYNTH_TAIL_LINES:])
    return f"the CDK app does not synthesize: {head}\n{tail}" if tail else head
