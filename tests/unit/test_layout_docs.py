"""The map stays true: every part of the local cloud and every test folder is on it.

README.md's "Layout" section and docs/local-cloud.md's "How it is built" section name each
subpackage of ftb/localcloud and each folder of tests/; the import-linter layers contract in
pyproject.toml places each subpackage. A new folder without its line fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def section(path: Path, heading: str) -> str:
    """The text under `## heading`, up to the next heading of the same level."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match is not None, f"{path.name} has no '## {heading}' section"
    return match.group(1)


def subpackages() -> list[str]:
    root = ROOT / "ftb" / "localcloud"
    return sorted(p.parent.name for p in root.glob("*/__init__.py"))


def folders_of_tests() -> list[str]:
    return sorted(
        p.name
        for p in (ROOT / "tests").iterdir()
        if p.is_dir() and not p.name.startswith(("_", "."))
    )


def missing(text: str, names: list[str], shape: str) -> list[str]:
    """The names that `text` does not mention in `shape` (e.g. "`{}/`")."""
    return [name for name in names if shape.format(name) not in text]


def layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["type"] == "layers"]
    assert contract["containers"] == ["ftb.localcloud"]
    names = []
    for line in contract["layers"]:
        names += [name.strip().strip("()") for name in re.split(r"[|:]", line)]
    return names


def test_the_folders_exist() -> None:
    # Given the repository, then there are parts and test folders to check at all
    assert {"deploy", "endpoint", "lambda_api", "lambda_runtime"} <= set(subpackages())
    assert {"unit", "e2e", "support"} <= set(folders_of_tests())


@pytest.mark.parametrize("package", subpackages())
def test_each_local_cloud_subpackage_is_on_both_maps_and_in_a_layer(package: str) -> None:
    # Given a subpackage of the local cloud
    # Then the README's layout, the local cloud's table and the layers contract name it
    readme = section(ROOT / "README.md", "Layout")
    assert not missing(readme, [package], "{}/"), "README.md Layout"
    built = section(ROOT / "docs" / "local-cloud.md", "How it is built")
    assert not missing(built, [package], "`{}/`"), "docs/local-cloud.md How it is built"
    assert package in layers(), "pyproject.toml layers contract"


@pytest.mark.parametrize("folder", folders_of_tests())
def test_each_test_folder_is_on_both_maps(folder: str) -> None:
    # Given a folder of tests/
    # Then the README's layout and the local cloud's table name it
    readme = section(ROOT / "README.md", "Layout")
    assert not missing(readme, [folder], "{}/"), "README.md Layout"
    built = section(ROOT / "docs" / "local-cloud.md", "How it is built")
    assert not missing(built, [folder], "`tests/{}/`"), "docs/local-cloud.md How it is built"


def test_a_missing_line_is_noticed() -> None:
    # Given the local cloud's table without the deploy engine's row
    built = section(ROOT / "docs" / "local-cloud.md", "How it is built")
    trimmed = "\n".join(line for line in built.splitlines() if "`deploy/`" not in line)
    # When the check the tests above make runs on it
    # Then it names the deploy engine, and only it
    assert missing(trimmed, subpackages(), "`{}/`") == ["deploy"]


def test_the_decisions_index_links_every_entry() -> None:
    # Given docs/decisions.md
    text = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    entries = [h for h in re.findall(r"^## (.+)$", text, re.M) if h != "Index"]
    index = section(ROOT / "docs" / "decisions.md", "Index")
    # Then its index links each entry once, by the anchor its heading gets
    links = re.findall(r"^- \[(.+)\]\(#([\w-]+)\)$", index, re.M)
    assert sorted(title for title, _ in links) == sorted(entries)
    for title, anchor in links:
        expected = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        assert anchor == expected, title
