"""Where snapshots live and how they are written and read (ftb/localcloud/persistence/store.py):
atomic, and every unusable saved state gets one clear message, with nothing loaded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ftb.localcloud.persistence import SnapshotError, SnapshotStore, state_directory
from ftb.localcloud.persistence.codec import date_in, date_out
from ftb.localcloud.persistence.store import SET_ASIDE_NAME


def test_the_saved_state_sits_next_to_its_state_file() -> None:
    assert state_directory(Path(".ftb/local.json")) == Path(".ftb/local.saved")


def test_a_snapshot_reads_back_as_written(tmp_path: Path) -> None:
    # Given a store and a document
    store = SnapshotStore(tmp_path / "saved")
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    # When it is written and read
    store.write({"savedAt": 1.5, "services": {"when": date_out(when), "n": [1, "two"]}})
    loaded = store.read()
    # Then it is the same document, with no partial file left behind
    assert loaded is not None and not loaded.discarded_partial
    assert loaded.document["services"]["n"] == [1, "two"]
    assert date_in(loaded.document["services"]["when"]) == when
    assert not store.partial.exists()


def test_no_saved_state_is_an_empty_start(tmp_path: Path) -> None:
    assert SnapshotStore(tmp_path / "none").read() is None


def test_a_save_interrupted_half_way_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    # Given a complete snapshot, then a save killed while writing (its partial file remains)
    store = SnapshotStore(tmp_path / "saved")
    store.write({"savedAt": 1.0, "generation": 1})
    store.partial.write_bytes(b'{"format": "ftb-local-snapshot", "gener')
    # When the next start reads the saved state
    loaded = store.read()
    # Then it gets the last complete snapshot, is told the partial one was discarded
    assert loaded is not None and loaded.document["generation"] == 1
    assert loaded.discarded_partial
    assert not store.partial.exists()


def test_a_corrupt_snapshot_is_refused_with_what_to_do(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "saved")
    store.directory.mkdir()
    store.path.write_bytes(b"\x00garbage{")
    with pytest.raises(SnapshotError, match=r"is corrupt .*nothing was loaded.*--fresh"):
        store.read()


@pytest.mark.parametrize(
    "content",
    [b'{"some": "json"}', b"[1, 2]", b'{"format": "terraform-state"}'],
    ids=["object", "array", "other-format"],
)
def test_a_foreign_file_is_refused(tmp_path: Path, content: bytes) -> None:
    store = SnapshotStore(tmp_path / "saved")
    store.directory.mkdir()
    store.path.write_bytes(content)
    with pytest.raises(SnapshotError, match="is not a saved local state of `ftb local`"):
        store.read()


def test_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    # Given a directory where the saved state would be, holding something else
    directory = tmp_path / "saved"
    directory.mkdir()
    (directory / "notes.txt").write_text("mine")
    # Then it is refused, and left alone
    with pytest.raises(SnapshotError, match=r"holds no snapshot\.json"):
        SnapshotStore(directory).read()
    assert (directory / "notes.txt").read_text() == "mine"


def test_a_snapshot_of_another_format_version_is_refused(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "saved")
    store.directory.mkdir()
    store.path.write_bytes(b'{"format": "ftb-local-snapshot", "version": 99}')
    with pytest.raises(SnapshotError, match="format version 99"):
        store.read()


def test_fresh_sets_the_old_snapshot_aside_and_the_next_start_is_empty(tmp_path: Path) -> None:
    # Given a saved state
    store = SnapshotStore(tmp_path / "saved")
    store.write({"savedAt": 1.0, "generation": 1})
    # When --fresh sets it aside
    aside = store.set_aside()
    # Then it is kept under another name, and reading finds no saved state
    assert aside == store.directory / SET_ASIDE_NAME and aside.exists()
    assert store.read() is None
