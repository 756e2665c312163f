"""What the local cloud exposes: a warning when the endpoint listens beyond loopback, and the
files holding secrets (state file, saved state, function log) readable by the user only, from
the moment they hold anything."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ftb import statefile
from ftb.localcloud import exposure
from ftb.localcloud.function_log import FunctionLog
from ftb.localcloud.local import LocalCloud, LocalOptions
from ftb.localcloud.persistence import SnapshotStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The worst case: a umask that would make every new file world-readable and writable."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_get_no_warning(host: str) -> None:
    assert exposure.warning(host, "http://127.0.0.1:4566") is None


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.20", "my-laptop.lan"])
def test_any_other_host_is_warned_of_in_the_banner(tmp_path: Path, host: str) -> None:
    # Given a cloud told to listen on a host beyond loopback
    cloud = LocalCloud(LocalOptions(root=tmp_path, host=host, state_file=tmp_path / "s.json"))
    cloud.endpoint = type("Endpoint", (), {"url": "http://127.0.0.1:4566"})()  # type: ignore[assignment]
    # When the banner's lines are made / Then one line says the endpoint has no authentication
    lines = [line for line in cloud._exposure_lines() if line]
    assert len(lines) == 1
    assert lines[0].startswith("WARNING: listening on ")
    assert "has no authentication" in lines[0] and "--host 127.0.0.1" in lines[0]
    cloud.terminal.close()


def _watch_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The mode of each file at the moment it is renamed into place (after its content)."""
    seen: list[tuple[str, int]] = []
    replace = os.replace

    def checked_replace(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        seen.append((Path(source).name, _mode(Path(source))))
        replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", checked_replace)
    return seen


def test_the_state_file_is_the_users_only_from_its_first_byte(
    tmp_path: Path, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a state file (credentials, API keys) in a directory that does not exist yet
    path = tmp_path / "project" / ".ftb" / "local.json"
    seen = _watch_writes(monkeypatch)
    state = statefile.LocalCloudState(
        pid=os.getpid(),
        stack_name="S",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:4566",
        api_keys={"k": "secret-value"},
    )
    # When it is written
    statefile.write(path, state)
    # Then it held its content with mode 0600 before it was renamed into place, and the
    # directories made for it are 0700
    assert seen == [(f".local.json.{os.getpid()}", 0o600)]
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700


def test_the_saved_state_is_the_users_only_and_an_older_one_is_narrowed(
    tmp_path: Path, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a saved state an older version left world-readable, with a stale partial save
    directory = tmp_path / "local.saved"
    directory.mkdir(mode=0o755)
    (directory / "snapshot.set-aside.json").write_text("{}")
    os.chmod(directory / "snapshot.set-aside.json", 0o644)
    partial = directory / "snapshot.json.partial"
    partial.write_text("")
    os.chmod(partial, 0o666)
    store = SnapshotStore(directory)
    seen = _watch_writes(monkeypatch)
    # When the cloud reads it, then saves
    store.read()
    store.write({"savedAt": 1.0})
    # Then the snapshot held its content with mode 0600, and every file and the directory
    # are the user's only
    assert seen == [("snapshot.json.partial", 0o600)]
    assert _mode(directory) == 0o700
    assert {p.name: _mode(p) for p in directory.iterdir()} == {
        "snapshot.json": 0o600,
        "snapshot.set-aside.json": 0o600,
    }


def test_the_function_log_is_the_users_only_across_rollovers(
    tmp_path: Path, permissive_umask: None
) -> None:
    # Given a function log whose file an older version left world-readable
    path = tmp_path / ".ftb" / "local.functions.log"
    path.parent.mkdir()
    path.write_text("old\n")
    os.chmod(path, 0o644)
    log = FunctionLog(path)
    # When functions write, and the log rolls over
    log.write("work", "password=hunter2")
    log._handler.doRollover()
    log.write("work", "another line")
    log.close()
    # Then the current file and the rolled-over one are the user's only
    assert _mode(path) == 0o600
    assert _mode(path.with_name(path.name + ".1")) == 0o600
    assert "another line" in path.read_text()
