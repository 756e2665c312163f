"""Which functions a code edit reaches: the modules each handler imports from its source.

Several functions are often built from one source directory (handlers/): a save of one
module changes the code of those that import it (directly or through another module of the
source), not the others. Read statically (ast): every `import` anywhere in a module counts,
run or not, so the answer errs on the side of "affected". A change the imports cannot
account for (a file that is not Python, a deleted file, a module that imports by name at
run time) reaches every function of the source.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

# Calls that import a module named at run time: the static reading cannot follow them.
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def _module_files(source: Path, dotted: str) -> list[Path]:
    """The files importing `dotted` runs, when it lives in `source`: each package's
    __init__.py on the way, then the module (a file or a package)."""
    parts = dotted.split(".")
    files = []
    for depth in range(1, len(parts) + 1):
        base = source.joinpath(*parts[:depth])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                files.append(candidate)
                break
        else:
            break  # not in the source (the standard library, a dependency)
    return files


def _package_of(source: Path, module_file: Path) -> list[str]:
    relative = module_file.relative_to(source).with_suffix("")
    parts = list(relative.parts)
    return parts if module_file.name == "__init__.py" else parts[:-1]


def _imported_names(source: Path, module_file: Path, tree: ast.AST) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(source, module_file)
                package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*package, *([base] if base else [])])
            if base:
                yield base
            # `from package import module`: the name may be a submodule.
            yield from (f"{base}.{alias.name}" if base else alias.name for alias in node.names)


def _imports_dynamically(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _DYNAMIC_IMPORTS:
                return True
    return False


def modules_used(source: Path, handler: str) -> set[Path] | None:
    """The files of `source` a handler ("pkg.module.function") imports, itself included;
    None when it imports by name at run time (or a module cannot be read)."""
    seen: set[Path] = set()
    pending = _module_files(source, handler.rsplit(".", 1)[0])
    while pending:
        module_file = pending.pop()
        if module_file in seen:
            continue
        seen.add(module_file)
        try:
            tree = ast.parse(module_file.read_bytes(), str(module_file))
        except (SyntaxError, ValueError, OSError):
            return None
        if _imports_dynamically(tree):
            return None
        for name in _imported_names(source, module_file, tree):
            pending.extend(_module_files(source, name))
    return {path.resolve() for path in seen}


def functions_using(
    candidates: Mapping[str, Path], handlers: Mapping[str, str], changed: Iterable[Path]
) -> dict[str, Path]:
    """Of `candidates` (function -> its source directory, which holds a changed file), those
    whose code the change reaches."""
    changed = [path.resolve() for path in changed]
    reached = {}
    for function, source in candidates.items():
        inside = [path for path in changed if path.is_relative_to(source.resolve())]
        if not inside:
            continue
        if any(path.suffix != ".py" or not path.is_file() for path in inside):
            reached[function] = source  # data, or a deleted module: no import tells
            continue
        used = modules_used(source.resolve(), handlers[function])
        if used is None or used.intersection(inside):
            reached[function] = source
    return reached
