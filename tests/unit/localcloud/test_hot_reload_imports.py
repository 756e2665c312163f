"""Which functions a code edit reaches (ftb/localcloud/hot_reload/imports.py): several
functions built from one source directory, one module saved."""

from __future__ import annotations

from pathlib import Path

from ftb.localcloud.hot_reload.imports import functions_using, modules_used

HANDLERS = Path(__file__).resolve().parents[3] / "handlers"


def _source(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _reached(source: Path, handlers: dict[str, str], *changed: str) -> list[str]:
    candidates = dict.fromkeys(handlers, source)
    return sorted(functions_using(candidates, handlers, [source / name for name in changed]))


SHARED = {
    "alpha.py": "from shared import util\ndef handler(e, c): return util.x\n",
    "beta.py": "import json\ndef handler(e, c):\n    from shared.other import y\n    return y\n",
    "gamma.py": "def handler(e, c): return 1\n",
    "shared/__init__.py": "",
    "shared/util.py": "from .deep import z\nx = z\n",
    "shared/deep.py": "z = 1\n",
    "shared/other.py": "y = 2\n",
    "notes.json": "{}",
}
FUNCTIONS = {"alpha": "alpha.handler", "beta": "beta.handler", "gamma": "gamma.handler"}


def test_a_saved_handler_reaches_its_function_only(tmp_path: Path) -> None:
    # Given three functions built from one source  When one handler module is saved
    source = _source(tmp_path, SHARED)
    # Then only its function's code changed
    assert _reached(source, FUNCTIONS, "alpha.py") == ["alpha"]
    assert _reached(source, FUNCTIONS, "gamma.py") == ["gamma"]


def test_a_shared_module_reaches_the_functions_that_import_it_even_indirectly(
    tmp_path: Path,
) -> None:
    source = _source(tmp_path, SHARED)
    # When a module imported through a relative import of another is saved
    assert _reached(source, FUNCTIONS, "shared/deep.py") == ["alpha"]
    # And one imported inside a function body
    assert _reached(source, FUNCTIONS, "shared/other.py") == ["beta"]
    # And the package's __init__, which every import of the package runs
    assert _reached(source, FUNCTIONS, "shared/__init__.py") == ["alpha", "beta"]


def test_what_the_imports_cannot_account_for_reaches_every_function(tmp_path: Path) -> None:
    source = _source(tmp_path, SHARED)
    # When a data file changes, or a module is deleted
    assert _reached(source, FUNCTIONS, "notes.json") == ["alpha", "beta", "gamma"]
    (source / "shared" / "other.py").unlink()
    assert _reached(source, FUNCTIONS, "shared/other.py") == ["alpha", "beta", "gamma"]
    # When a module imports by name at run time, its function is reached by any edit
    (source / "gamma.py").write_text(
        "import importlib\ndef handler(e, c): return importlib.import_module('x')\n"
    )
    assert modules_used(source, "gamma.handler") is None
    assert _reached(source, FUNCTIONS, "shared/deep.py") == ["alpha", "gamma"]


def test_a_new_module_that_shadows_an_import_reaches_its_importers(tmp_path: Path) -> None:
    # Given beta imports json from the standard library
    source = _source(tmp_path, SHARED)
    # When a json.py appears in the source (first on the function's path, it wins)
    (source / "json.py").write_text("")
    # Then beta's code changed, nobody else's
    assert _reached(source, FUNCTIONS, "json.py") == ["beta"]


def test_in_this_app_a_process_task_save_names_process_task_only() -> None:
    # Given the app's five functions, all built from handlers/
    functions = {
        name: f"{name}.handler"
        for name in ("process_task", "get_task", "submit_task", "start_execution", "monitor_dlq")
    }
    # Then a save of process_task.py reaches process-task alone; the shared models all five
    assert _reached(HANDLERS, functions, "process_task.py") == ["process_task"]
    assert _reached(HANDLERS, functions, "lambda_support/api.py") == ["get_task", "submit_task"]
    assert _reached(HANDLERS, functions, "task_domain/models.py") == sorted(functions)
