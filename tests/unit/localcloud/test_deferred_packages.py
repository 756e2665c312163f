"""A package whose __init__ is deferred: submodules import without it, the first use runs it."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ftb.localcloud.moto_internals.deferred_packages import defer_package_init, is_deferred


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    """A package whose __init__ counts its runs (in a file) and fails while FAIL exists."""
    name = f"deferred_demo_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            _here = Path(__file__).parent
            if (_here / "FAIL").exists():
                raise RuntimeError("init failed")
            runs = _here / "runs"
            runs.write_text(str(int(runs.read_text() or 0) + 1) if runs.exists() else "1")
            from {name}.heavy import VALUE
            """
        )
    )
    (root / "light.py").write_text("LIGHT = 'light'\n")
    (root / "heavy.py").write_text("VALUE = 42\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def test_a_submodule_imports_without_running_the_package_init(package: str, tmp_path: Path) -> None:
    # Given a deferred package
    assert defer_package_init(package)
    # When one of its submodules is imported
    light = importlib.import_module(f"{package}.light")
    # Then the submodule is there and the package's __init__ has not run
    assert light.LIGHT == "light"
    assert is_deferred(package)
    assert not (tmp_path / package / "runs").exists()


def test_the_first_use_runs_the_init_once_as_an_import_would(package: str, tmp_path: Path) -> None:
    # Given a deferred package whose submodule was imported
    defer_package_init(package)
    importlib.import_module(f"{package}.light")
    # When something uses what its __init__ defines, twice, by attribute and by from-import
    module = sys.modules[package]
    first = module.VALUE
    second = importlib.import_module(package).VALUE
    namespace: dict[str, object] = {}
    exec(f"from {package} import VALUE as third", namespace)
    # Then the __init__ ran once, in full, and the package is an ordinary module now
    assert (first, second, namespace["third"]) == (42, 42, 42)
    assert (tmp_path / package / "runs").read_text() == "1"
    assert not is_deferred(package)
    # And a name it does not define is still an AttributeError
    with pytest.raises(AttributeError):
        _ = module.NOT_DEFINED


def test_a_failing_init_fails_the_use_and_the_next_use_retries(
    package: str, tmp_path: Path
) -> None:
    # Given a deferred package whose __init__ fails for now
    (tmp_path / package / "FAIL").touch()
    defer_package_init(package)
    # When it is used, then the use fails with the __init__'s error
    with pytest.raises(RuntimeError, match="init failed"):
        _ = sys.modules[package].VALUE
    # When the cause is gone, then the next use runs it
    (tmp_path / package / "FAIL").unlink()
    assert sys.modules[package].VALUE == 42
    assert not is_deferred(package)


def test_an_imported_package_is_left_alone() -> None:
    # Given a package already imported, when it is deferred, then nothing changes
    assert not defer_package_init("json")
    assert not is_deferred("json")


def test_the_engine_loads_without_ec2_and_batch_still_works() -> None:
    # Given a fresh interpreter, when the endpoint's engine caches are installed
    script = textwrap.dedent(
        """
        import sys
        from ftb.localcloud.moto_internals.engine_caches import install_engine_caches
        from ftb.localcloud.moto_internals.deferred_packages import is_deferred
        install_engine_caches()
        # Then the Step Functions engine is loaded, moto.batch's __init__ (and EC2) not yet
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
        AmazonStateLanguageParser.parse(
            '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
        )
        assert is_deferred("moto.batch") and "moto.ec2" not in sys.modules
        # And moto's Batch backend is there when asked for, the same as an import gives
        from moto.backends import get_backend
        backends = get_backend("batch")
        from moto.batch import batch_backends
        assert backends is batch_backends and not is_deferred("moto.batch")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
