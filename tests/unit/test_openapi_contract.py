"""api/openapi.yaml, the one description of the API, against the handler's own rules.

The gateway's model is derived from the OpenAPI request schema (infra/constructs/api.py);
these tests keep that schema in step with the pydantic model the handler enforces, so the
gateway never rejects a task the handler would accept.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from pydantic import ValidationError

from infra.constructs.api import OPENAPI_PATH, json_schema, openapi_document, request_schema
from task_domain.models import TASK_ID_MAX_LENGTH, TASK_ID_PATTERN, TaskStatus, TaskSubmission
from tests.infrastructure.test_stack_api import BODIES

DOCUMENT = openapi_document()
SUBMISSION_SCHEMA = request_schema(DOCUMENT)

# More bodies on top of the template test's set: the edges of the taskId rule.
MORE_BODIES: dict[str, Any] = {
    "80 dashes": {"taskId": "-" * 80, "payload": {}},
    "underscore only": {"taskId": "_", "payload": {"a": 1}},
    "emoji": {"taskId": "task-\U0001f600", "payload": {}},
    "tab": {"taskId": "a\tb", "payload": {}},
    "leading space": {"taskId": " a", "payload": {}},
    "NUL": {"taskId": "a\x00b", "payload": {}},
    "backslash": {"taskId": "a\\b", "payload": {}},
    "full-width digit": {"taskId": "\uff11", "payload": {}},
    "boolean id": {"taskId": True, "payload": {}},
    "numbers as strings": {"taskId": "1", "payload": "123"},
    "boolean payload": {"taskId": "a", "payload": False},
    "empty object": {},
    "null body": None,
    "number body": 7,
}
# Where the schema is wider than the handler, on purpose and harmlessly: JSON Schema engines
# built on Python's `re` (the local gateway) or Java's (API Gateway) let `$` match before a
# final newline, so "abc\n" passes the model; the handler (pydantic's regex, fullmatch) then
# answers 400 itself. The reverse, a model rejecting what the handler accepts, is never allowed.
WIDER_IN_THE_SCHEMA: dict[str, Any] = {
    "trailing newline": {"taskId": "abc\n", "payload": {}},
}
ALL_BODIES = {**BODIES, **MORE_BODIES}


def _schema_accepts(body: Any) -> bool:
    return bool(OAS30Validator(SUBMISSION_SCHEMA).is_valid(body))


def _handler_accepts(body: Any) -> bool:
    try:
        TaskSubmission.model_validate(body)
    except ValidationError:
        return False
    return True


def test_the_description_is_valid_openapi_3() -> None:
    # Given api/openapi.yaml  When the OpenAPI 3 validator reads it  Then it is valid
    validate(DOCUMENT)
    assert OPENAPI_PATH.name == "openapi.yaml" and DOCUMENT["openapi"].startswith("3.0")


@pytest.mark.parametrize("case", sorted(ALL_BODIES))
def test_request_schema_and_handler_model_agree(case: str) -> None:
    # Given a request body
    body = ALL_BODIES[case]
    # When the OpenAPI request schema and the handler's pydantic model judge it
    # Then they agree
    assert _schema_accepts(body) == _handler_accepts(body), case


@pytest.mark.parametrize("case", sorted(WIDER_IN_THE_SCHEMA))
def test_where_the_schema_is_wider_the_handler_rejects(case: str) -> None:
    # Given a body only the regex dialect tells apart
    body = WIDER_IN_THE_SCHEMA[case]
    # Then the schema lets it through and the handler refuses it (its own 400)
    assert _schema_accepts(body) and not _handler_accepts(body)


def test_the_task_id_rule_is_the_handlers_everywhere() -> None:
    # Given the taskId in the request body and in the GET path
    in_body = SUBMISSION_SCHEMA["properties"]["taskId"]
    in_path = DOCUMENT["paths"]["/tasks/{taskId}"]["get"]["parameters"][0]
    path_schema = DOCUMENT["components"]["schemas"]["TaskId"]
    # Then both carry the handler's pattern and length limits
    assert in_path["schema"] == {"$ref": "#/components/schemas/TaskId"}
    for rule in (in_body, path_schema):
        assert rule["pattern"] == TASK_ID_PATTERN
        assert (rule["minLength"], rule["maxLength"]) == (1, TASK_ID_MAX_LENGTH)


def test_documented_statuses_are_the_handlers() -> None:
    # Given the documented task view  Then its status enum is TaskStatus, no more, no less
    view = DOCUMENT["components"]["schemas"]["TaskView"]
    assert view["properties"]["status"]["enum"] == [status.value for status in TaskStatus]
    accepted = DOCUMENT["components"]["schemas"]["Accepted"]
    assert accepted["properties"]["status"]["enum"] == [TaskStatus.QUEUED.value]


def test_every_answer_is_documented_as_json_and_no_5xx_but_503() -> None:
    # Given every documented response of every operation
    responses = DOCUMENT["components"]["responses"]
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                resolved = (
                    responses[response["$ref"].rsplit("/", 1)[1]]
                    if "$ref" in response
                    else response
                )
                # Then each is JSON, and the only server error is the retryable 503
                assert set(resolved["content"]) == {"application/json"}, (method, path, status)
                assert not status.startswith("5") or status == "503", (method, path, status)
    post = DOCUMENT["paths"]["/tasks"]["post"]["responses"]
    assert {"200", "202", "400", "409", "413", "415"} <= set(post)
    get = DOCUMENT["paths"]["/tasks/{taskId}"]["get"]["responses"]
    assert {"200", "400", "404"} <= set(get)


def test_the_gateway_model_is_the_request_schema_in_draft_4() -> None:
    # Given the model the API construct builds from the OpenAPI file
    model = json_schema(SUBMISSION_SCHEMA)
    # Then it carries each rule of the request schema
    assert model.title == "TaskSubmission"
    assert model.additional_properties is False
    assert sorted(model.required or []) == ["payload", "taskId"]
    task_id = (model.properties or {})["taskId"]
    assert (task_id.pattern, task_id.min_length, task_id.max_length) == (
        TASK_ID_PATTERN,
        1,
        TASK_ID_MAX_LENGTH,
    )


@pytest.mark.parametrize("keyword", ["nullable", "oneOf", "format", "x-extension"])
def test_a_rule_the_model_cannot_carry_fails_the_build(keyword: str) -> None:
    # Given a request schema with a keyword API Gateway's draft-4 model has no field for
    schema = {**SUBMISSION_SCHEMA, keyword: True}
    # When the model is built  Then the synth fails instead of silently dropping the rule
    with pytest.raises(ValueError, match=keyword):
        json_schema(schema)
