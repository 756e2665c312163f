"""A copy of the app (CDK app, handlers, workflow, API) in a scratch directory, for tests and
benchmarks that edit its sources while `ftb local` runs it: the repository is never edited.

`ftb local` run from the copy synthesizes the copy (`infra/names.py` finds its root from its
own location). The repository's synth cache is copied too: the copy's inputs are the same
bytes, so its first start is a cache hit instead of a cold synth. An app the repository has
not synthesized yet (the extended test app with its default context: the e2e suite runs it
only with apiKey) is synthesized into the repository's cache first, once, like any first
synth: every later copy starts from the cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ftb.localcloud import synth

REPO_ROOT = Path(__file__).resolve().parents[2]
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")


def copy_app(target: Path, app: str = synth.DEFAULT_APP) -> Path:
    """Copy what the template is built from into `target` (created); returns it. An app
    module outside infra/ (e.g. tests.support.extra_app.app) is copied with its package."""
    target.mkdir(parents=True, exist_ok=True)
    package = Path(*app.split(".")[:-1])
    if not (REPO_ROOT / package).is_relative_to(REPO_ROOT / "infra"):
        shutil.copytree(REPO_ROOT / package, target / package, ignore=_IGNORE)
        for parent in package.parents:  # the packages above it, as packages
            init = REPO_ROOT / parent / "__init__.py"
            if parent != Path(".") and init.is_file():
                shutil.copy2(init, target / parent / "__init__.py")
    for name in synth.WATCHED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=_IGNORE)
        elif source.is_file():
            shutil.copy2(source, target / name)
    cached = REPO_ROOT / ".ftb" / "synth" / app.replace(".", "_") / synth.cache_key(REPO_ROOT, app)
    if not cached.is_dir():
        filled = synth.synth(REPO_ROOT, app)
        if filled.hold is not None:
            filled.hold.close()
    if cached.is_dir():
        shutil.copytree(
            cached,
            target / ".ftb" / "synth" / app.replace(".", "_") / cached.name,
            ignore=shutil.ignore_patterns(".in-use"),
        )
    return target
