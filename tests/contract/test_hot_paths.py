"""moto's hot helpers against ours (moto_internals/hot_paths.py), on the installed moto: the
same inputs give the same results."""

from __future__ import annotations

import copy
import datetime
import time
from typing import Any

import pytest

from ftb.localcloud.moto_internals import hot_paths, registry
from ftb.localcloud.moto_internals.wall import Target, original

MOMENTS = [
    datetime.datetime(1970, 1, 1),
    datetime.datetime(1969, 12, 31, 23, 59, 59, 999999),
    datetime.datetime(2026, 11, 30, 12, 34, 56, 789012),
    datetime.datetime(2038, 1, 19, 3, 14, 8),
    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
]


def moto_s(target: Target) -> Any:
    """moto's own function of a target, whether or not the wall has patched it yet."""
    return original(target.owner(), target.attribute)


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    hot_paths.install_hot_paths()


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize(
    ("target", "ours"),
    [
        (registry.UNIX_TIME, hot_paths.unix_time),
        (registry.UNIX_TIME_MILLIS, hot_paths.unix_time_millis),
    ],
    ids=["unix_time", "unix_time_millis"],
)
def test_clock_of_a_given_moment(target: Target, ours: Any, moment: datetime.datetime) -> None:
    # Given a naive UTC moment, when moto's helper and ours convert it
    # Then they give the same number, to the last bit
    assert ours(moment) == moto_s(target)(moment)


@pytest.mark.parametrize(
    ("target", "ours", "scale"),
    [
        (registry.UNIX_TIME, hot_paths.unix_time, 1.0),
        (registry.UNIX_TIME_MILLIS, hot_paths.unix_time_millis, 1000.0),
    ],
    ids=["unix_time", "unix_time_millis"],
)
def test_clock_of_now(target: Target, ours: Any, scale: float) -> None:
    # Given moto's helper and ours, when both tell "now" between two readings of the clock
    before = time.time() * scale
    theirs, mine = moto_s(target)(), ours()
    after = time.time() * scale
    # Then both fall between them (moto's goes through a datetime: microsecond resolution)
    resolution = 1e-6 * scale
    assert before - resolution <= theirs <= after + resolution
    assert before - resolution <= mine <= after + resolution


def test_utcnow() -> None:
    # Given moto's utcnow and ours, when both tell now between two naive UTC readings
    before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    theirs, mine = moto_s(registry.UTCNOW)(), hot_paths.utcnow()
    after = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    # Then both are naive datetimes within the readings
    assert type(theirs) is type(mine) is datetime.datetime
    assert theirs.tzinfo is None and mine.tzinfo is None
    assert before <= theirs <= after and before <= mine <= after


def _response_classes() -> list[type]:
    from moto.dynamodb.responses import DynamoHandler
    from moto.logs.responses import LogsResponse
    from moto.sqs.responses import SQSResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    return [SQSResponse, DynamoHandler, StepFunctionResponse, LogsResponse]


@pytest.mark.parametrize("index", range(4), ids=["sqs", "dynamodb", "stepfunctions", "logs"])
def test_method_names_from_class(index: int) -> None:
    # Given one of the response classes moto dispatches by method name
    clazz = _response_classes()[index]
    # When moto's helper and ours list its methods (ours twice: the second from its cache)
    theirs = moto_s(registry.METHOD_NAMES)(clazz)
    # Then the lists are equal, in the same order
    assert hot_paths.method_names_from_class(clazz) == theirs
    assert hot_paths.method_names_from_class(clazz) == theirs


PATHS = [
    "$",
    "$.taskId",
    "$.error.Cause",
    "$.items[0]",
    "$.items[-1:]",
    "$.items[*].id",
    "$..id",
    "$.items[?(@.id > 1)].id",
    "$.items.length()",
    "$['odd key']",
]
DOCUMENTS = [
    {
        "taskId": "t-1",
        "error": {"Cause": "boom"},
        "items": [{"id": 1}, {"id": 2}, {"id": 3}],
        "odd key": True,
    },
    {"taskId": "t-2", "error": {"Cause": None}, "items": [{"id": 5}], "odd key": [1, 2]},
]


@pytest.mark.parametrize("path", PATHS)
def test_json_path_extraction(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the engine's extract_json, with moto's parse and then with our cached one
    from moto.stepfunctions.parser.asl.utils import json_path

    def extract_all(parse: Any) -> list[Any]:
        monkeypatch.setattr(json_path, "parse", parse)
        results: list[tuple[Any, ...]] = []
        for document in DOCUMENTS * 2:  # twice: the cached expression is reused
            try:
                results.append(("value", json_path.extract_json(path, copy.deepcopy(document))))
            except Exception as error:  # a path with no match raises: the same error, too
                results.append(("error", type(error).__name__, str(error)))
        return results

    ours = json_path.parse
    # When both extract from the same documents
    theirs = extract_all(moto_s(registry.JSON_PATH_PARSE))
    mine = extract_all(ours)
    # Then the values (or errors) are the same
    assert mine == theirs


RESULT_PATHS = ["$", "$.result", "$.error.Cause", "$.nested.deeper.value"]


@pytest.mark.parametrize("path", RESULT_PATHS)
def test_result_path_update(path: str) -> None:
    # Given the engine's ResultPath: update_or_create of the state's input with its result
    from moto.stepfunctions.parser.asl.component.common.path import result_path

    theirs_parse = moto_s(registry.RESULT_PATH_PARSE)
    mine_parse = result_path.parse
    state_input = {"taskId": "t-1", "error": {"Cause": "old"}}
    outputs = [{"ok": True}, "text", [1, 2]]
    # When both parses place each output (ours twice, from its cache)
    theirs = [
        theirs_parse(path).update_or_create(copy.deepcopy(state_input), copy.deepcopy(o))
        for o in outputs
    ]
    mine = [
        mine_parse(path).update_or_create(copy.deepcopy(state_input), copy.deepcopy(o))
        for o in outputs * 2
    ]
    # Then the documents are the same
    assert mine == theirs * 2
