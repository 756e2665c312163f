"""How `make test` shares its work between pytest-xdist workers (`-n N`, `--dist loadgroup`).

Most of the suite's time is spent waiting on clocks (a local cloud's start-up, a scaled
visibility timeout, a starter's backoff), so several workers overlap those waits on two cores.
Two rules keep that as cheap and as safe as one process:

- Every test that uses a fixture wider than a test (a session cloud, the synthesized stack, a
  module's own cloud) runs on the same worker as every other user of that fixture, in a row:
  one group per conftest with session fixtures, one per module with a module-scoped fixture.
  So each cloud starts once per run, as without workers, and the conftests that stop a
  session cloud after its last test still see all of that cloud's tests.
- The tests that start local clouds are handed out first, the reliability suites (bounded by
  their fault model's clocks) before the others: the long waits begin at once and the quick
  tests fill the gaps, instead of the longest test starting last.

The groups are computed where the tests are collected (each worker) from the fixtures they
use, and reach the scheduler (in the controller) through a JSON file. xdist's own loadgroup
marks are not used: on pytest 9.2 its node-id suffix no longer takes effect and every worker
would start every cloud (pytest-dev/pytest-xdist#1386). Tests that share an id (pytest 9.2
with schemathesis) stop the run: xdist would run only one of them.

Without workers (`pytest -n 0`, or a plain `pytest tests/...`) nothing here changes the run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

# conftest.py files sit in folders under this one; their fixtures' baseid starts with it.
TESTS_ROOT = "tests"
WIDER_THAN_A_TEST = ("module", "class", "package")
GROUPS_FILE = "ftb_groups_file"  # the key in each worker's workerinput


def shared_fixture_group(item: pytest.Item) -> str | None:
    """The group of the widest fixture of the project the test uses, None if it has none
    wider than a function (the test can then run on any worker)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    session_owners: set[str] = set()
    module_scoped = False
    for name, chain in info.name2fixturedefs.items():
        for definition in _in_use(name, chain):
            baseid = getattr(definition, "baseid", "")
            if not (baseid == TESTS_ROOT or baseid.startswith(f"{TESTS_ROOT}/")):
                continue  # pytest's and plugins' own fixtures (tmp_path_factory, ...)
            if definition.scope == "session":
                session_owners.add(baseid)
            elif definition.scope in WIDER_THAN_A_TEST:
                module_scoped = True
    if session_owners:
        return "session:" + min(session_owners)
    if module_scoped:
        return "module:" + item.nodeid.split("::", 1)[0]
    return None


def _in_use(name: str, chain: Sequence[Any]) -> list[Any]:
    """The definitions of `name` the test runs: the closest, and the ones it overrides only
    where it requests its own name (a module's `cloud` replaces the conftest's `cloud`)."""
    used = [chain[-1]]
    while name in used[-1].argnames and len(used) < len(chain):
        used.append(chain[-1 - len(used)])
    return used


def _hand_out_order(item: pytest.Item) -> int:
    if item.get_closest_marker("cloud") is None:
        return 2
    return 0 if item.get_closest_marker("reliability") is not None else 1


@pytest.hookimpl(trylast=True)  # after tests/conftest.py marked the cloud tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker: put the cloud tests first and write every test's group for the
    scheduler."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None or GROUPS_FILE not in workerinput:
        return
    ids = Counter(item.nodeid for item in items)
    if duplicated := sorted(nodeid for nodeid, count in ids.items() if count > 1):
        # xdist hands out tests by id: it would run one of each and drop the others silently
        raise pytest.UsageError("tests share an id: " + ", ".join(duplicated))
    items.sort(key=_hand_out_order)  # stable: each group keeps the collection's order
    groups = {item.nodeid: group for item in items if (group := shared_fixture_group(item))}
    target = Path(workerinput[GROUPS_FILE])
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    partial.write_text(json.dumps(groups), encoding="utf-8")
    partial.replace(target)  # every worker writes the same map; the last one stays


class SharedFixtureScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with the groups above as scopes (a test with none is a
    scope of its own). Scopes go out in the collection's order (--no-loadscope-reorder)."""

    def __init__(self, config: pytest.Config, log: Any, groups_file: Path) -> None:
        super().__init__(config, log)
        self._groups_file = groups_file
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:  # the workers wrote it before they reported their collection
            self._groups = json.loads(self._groups_file.read_text(encoding="utf-8"))
        return self._groups.get(nodeid, nodeid)


def _groups_file() -> Path:
    """Named after the controller process (the scheduler's side)."""
    return Path(tempfile.gettempdir()) / f"ftb-xdist-groups-{os.getpid()}.json"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadgroup":
        return None
    return SharedFixtureScheduling(config, log, _groups_file())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    if node.config.getoption("dist") == "loadgroup":
        node.workerinput[GROUPS_FILE] = str(_groups_file())


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        _groups_file().unlink(missing_ok=True)
