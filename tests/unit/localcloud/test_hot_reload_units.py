"""Hot reload's small parts: the three-way merge of a function's configuration, where code
comes from, what a batch of file events means, and the compile check."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
from watchfiles import Change

from ftb.localcloud.deploy import merge_spec
from ftb.localcloud.deploy.code_digest import digest
from ftb.localcloud.hot_reload import compile_errors
from ftb.localcloud.hot_reload.code_sources import copy_source, find_sources
from ftb.localcloud.hot_reload.reloader import _is_handler_module
from ftb.localcloud.hot_reload.watcher import net_changes
from ftb.localcloud.lambda_runtime import FunctionSpec


def spec(code_dir: Path, **changes: object) -> FunctionSpec:
    base = FunctionSpec(
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        code_dir=code_dir,
        handler="app.handler",
        environment={"A": "1", "B": "1"},
        timeout_seconds=3,
    )
    return FunctionSpec(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def code(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "app.py").write_text(text, encoding="utf-8")
    return directory


def test_a_template_change_applies_on_top_of_a_change_made_through_the_api(
    tmp_path: Path,
) -> None:
    # Given a function whose B was set through UpdateFunctionConfiguration (`ftb set-env`)
    v1 = code(tmp_path / "v1", "x = 1\n")
    base = spec(v1)
    current = spec(v1, environment={"A": "1", "B": "api"})
    # When the template changes A, adds C and the timeout, with the same code in a new place
    same_code = copy_source(v1, tmp_path / "asset")
    theirs = spec(same_code, environment={"A": "2", "B": "1", "C": "3"}, timeout_seconds=9)
    merged = merge_spec(base, theirs, current)
    # Then the template's changes apply, the API's change stays, and the code is not swapped
    assert merged.environment == {"A": "2", "B": "api", "C": "3"}
    assert merged.timeout_seconds == 9
    assert merged.code_dir == v1


def test_new_code_is_taken_and_a_removed_variable_goes(tmp_path: Path) -> None:
    v1 = code(tmp_path / "v1", "x = 1\n")
    v2 = code(tmp_path / "v2", "x = 2\n")
    base = spec(v1)
    merged = merge_spec(base, spec(v2, environment={"A": "1"}), base)
    assert merged.code_dir == v2
    assert merged.environment == {"A": "1"}


def test_an_asset_is_matched_to_the_directory_it_was_copied_from(tmp_path: Path) -> None:
    # Given a project with two code directories, and an asset copied from one (plus a cache)
    project = tmp_path / "project"
    handlers = code(project / "handlers", "def handler(e, c): return 1\n")
    code(project / "handlers" / "pkg", "")
    other = code(project / "other", "def handler(e, c): return 2\n")
    asset = tmp_path / "cdk.out" / "asset.abc"
    shutil.copytree(handlers, asset)
    (asset / "__pycache__").mkdir()
    (asset / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    # When sources are looked for
    found = find_sources([asset, other], [project])
    # Then the asset's source is handlers/ (caches ignored), and a directory is its own source
    assert found == {asset: handlers.resolve(), other: other.resolve()}
    assert digest(asset) == digest(handlers)


def test_a_temporary_file_that_came_and_went_is_not_a_change(tmp_path: Path) -> None:
    kept = tmp_path / "app.py"
    kept.write_text("x = 1\n")
    temporary = tmp_path / "sedXYZ"
    deleted = tmp_path / "old.py"
    changes = {
        (Change.added, str(temporary)),
        (Change.deleted, str(temporary)),
        (Change.modified, str(kept)),
        (Change.deleted, str(deleted)),
    }
    assert net_changes(changes) == {kept, deleted}


def test_a_file_that_does_not_compile_is_named_with_its_line(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("x = 1\n")
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\ndef broken(:\n")
    data = tmp_path / "data.json"
    data.write_text("{")
    assert compile_errors([good, bad, data, tmp_path / "gone.py"]) == [
        (bad, "line 2: invalid syntax")
    ]


def test_the_function_whose_handler_module_changed_is_swapped_first(tmp_path: Path) -> None:
    # Given a code source with a handler module, a package handler and a shared module
    source = tmp_path / "handlers"
    # Then an edit of process_task.py concerns "process_task.handler" only
    assert _is_handler_module(source / "process_task.py", source, "process_task.handler")
    assert not _is_handler_module(source / "process_task.py", source, "get_task.handler")
    assert _is_handler_module(source / "pkg" / "api" / "__init__.py", source, "pkg.api.handler")
    assert not _is_handler_module(source / "task_domain" / "x.py", source, "process_task.handler")


def test_hot_reload_is_on_by_default_and_no_watch_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given `ftb local` with and without --no-watch (the cloud itself is not started)
    from ftb import cli
    from ftb.localcloud import local

    seen: list[bool] = []

    def run(options: Any, stop: Any, hurry: Any = None) -> int:
        seen.append(options.watch)
        return 0

    monkeypatch.setattr(local, "run", run)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # keep pytest's Ctrl-C handler
    # When each is run / Then the option reaches the cloud's options
    assert cli.main(["local", "--state-file", str(tmp_path / "s.json")]) == 0
    assert cli.main(["local", "--no-watch", "--state-file", str(tmp_path / "s.json")]) == 0
    assert seen == [True, False]
