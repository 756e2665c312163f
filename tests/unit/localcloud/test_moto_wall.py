"""The wall around moto: a moved target refuses the start, by name; nothing else imports moto."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path
from typing import Any

import pytest

from ftb import cli
from ftb.localcloud.moto_internals import registry, wall
from ftb.localcloud.moto_internals.wall import Fields, Function, Property, Target, WallBroken

ROOT = Path(__file__).resolve().parents[3]
WALL = ROOT / "ftb" / "localcloud" / "moto_internals"


def test_the_installed_moto_has_every_target() -> None:
    # Given the locked moto, when every patched and read target is checked
    problems = registry.check_installed_moto()
    # Then none is missing or changed
    assert problems == []


def test_a_removed_patch_target_refuses_the_start_and_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a moto whose SQS Queue lost the property the race fix replaces (after the patches
    # were installed in this process: what was patched is checked as it is now)
    from moto.sqs.models import Queue

    from ftb.localcloud.moto_internals.install import install_patches

    install_patches()
    monkeypatch.delattr(Queue, "pending_message_groups")
    from ftb.localcloud import local

    def started(*args: Any) -> int:
        raise AssertionError("the local cloud started on a moto without the target")

    monkeypatch.setattr(local, "run", started)
    # When `ftb local` starts
    code = cli.main(["local", "--fresh"])
    # Then it refuses with exit 2, one message naming moto's version and the target, no traceback
    err = capsys.readouterr().err
    assert code == 2
    assert f"moto {wall.moto_version()}" in err
    assert "moto.sqs.models.Queue.pending_message_groups is missing" in err
    assert "Traceback" not in err


def test_a_changed_signature_and_a_renamed_field_are_each_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a moto whose unix_time takes another parameter and whose Message renamed a field
    from moto.core import utils
    from moto.sqs.models import Message

    def unix_time(moment: datetime.datetime | None = None) -> float:
        return 0.0

    monkeypatch.setattr(utils, "unix_time", unix_time)
    monkeypatch.setattr(registry, "READS", (*registry.READS, _message_with("visible_until")))
    # When the targets are checked
    problems = registry.check_installed_moto()
    # Then both are named, with what was expected
    assert "moto.core.utils.unix_time takes (moment), expected (dt)" in problems
    assert "moto.sqs.models.Message has no field visible_until" in problems
    assert Message is not None


def _message_with(field: str) -> Target:
    return Target("moto.sqs.models", "Message", Fields((field,)), "test")


def test_replace_refuses_a_target_of_another_shape_and_leaves_it() -> None:
    # Given a class whose attribute is a plain method where a property is expected
    class Owner:
        def groups(self) -> set[str]:
            return set()

    import sys
    import types

    module = types.ModuleType("moto_wall_test_module")
    module.Owner = Owner  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        target = Target(module.__name__, "Owner.groups", Property(), "test")
        # When a patch is attempted
        with pytest.raises(WallBroken) as refused:
            wall.replace(target, property(lambda self: {"g"}))
    finally:
        del sys.modules[module.__name__]
    # Then it is refused by name, and the original stays
    assert "moto_wall_test_module.Owner.groups is function, expected a property" in str(
        refused.value
    )
    assert Owner.groups is not None and not isinstance(Owner.__dict__["groups"], property)


def test_replace_keeps_the_original_for_the_contract_tests() -> None:
    # Given a module function, when it is replaced twice
    import sys
    import types

    module = types.ModuleType("moto_wall_test_original")

    def helper(dt: Any = None) -> str:
        return "moto's"

    module.helper = helper  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        target = Target(module.__name__, "helper", Function(("dt",)), "test")
        wall.replace(target, lambda dt=None: "ours")
        wall.replace(target, lambda dt=None: "ours again")
        # Then the original is moto's first function, and the module holds the replacement
        assert wall.original(module, "helper") is helper
        assert module.helper() == "ours again"  # type: ignore[attr-defined]
    finally:
        del sys.modules[module.__name__]


def _moto_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`import moto...`, `from moto... import`, and importlib/__import__ calls naming moto."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            called = getattr(function, "attr", getattr(function, "id", ""))
            first = node.args[0]
            if called in {"import_module", "__import__", "find_spec"}:
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names = [first.value]
                elif isinstance(first, ast.JoinedStr):
                    names = [ast.unparse(first)[2:-1]]
        line = getattr(node, "lineno", 0)
        found += [f"{path.relative_to(root)}:{line} {name}" for name in names]
    return [line for line in found if line.split(" ")[1].split(".")[0] == "moto"]


def test_no_module_outside_the_wall_imports_moto() -> None:
    # Given every module of ftb/ outside moto_internals (import-linter sees static imports
    # only; this also catches importlib.import_module("moto...") and f-strings naming moto)
    modules = [p for p in (ROOT / "ftb").rglob("*.py") if WALL not in p.parents]
    # When their imports are read
    offenders = [line for path in modules for line in _moto_imports(path)]
    # Then none names moto
    assert offenders == []


def test_the_reading_sees_a_dynamic_and_a_lazy_import(tmp_path: Path) -> None:
    # Given a module that imports moto dynamically and in a function
    source = tmp_path / "dynamic.py"
    source.write_text(
        "import importlib\n"
        "def f(name):\n"
        "    from moto.sqs.models import Queue\n"
        '    return importlib.import_module(f"moto.{name}")\n'
    )
    # When its imports are read
    found = _moto_imports(source, tmp_path)
    # Then both are reported (the test above can fail)
    assert found == ["dynamic.py:3 moto.sqs.models", "dynamic.py:4 moto.{name}"]
