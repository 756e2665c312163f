"""GET /tasks/{taskId}: the task's status from its record and its execution."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_support import aws
from lambda_support.api import install_error_handlers, json_response
from lambda_support.observability import logger, tracer
from lambda_support.settings import ApiSettings, api_settings
from task_domain import records
from task_domain.errors import ApiError, FieldError, invalid_request
from task_domain.models import TASK_ID_PATTERN, TASK_ID_RULE
from task_domain.status import TaskView, current_view

app = APIGatewayRestResolver()
install_error_handlers(app)

_TASK_ID = re.compile(TASK_ID_PATTERN)


def task_view(task_id: str, settings: ApiSettings) -> TaskView:
    if not _TASK_ID.fullmatch(task_id):
        raise invalid_request(FieldError("taskId", f"taskId must be {TASK_ID_RULE}"))
    # A redrive's name reservation is another task's run, not a task: unknown here.
    record = records.get_task(aws.table(settings.tasks_table_name), task_id)
    if record is None:
        raise ApiError(HTTPStatus.NOT_FOUND, "Task not found", extra={"taskId": task_id})
    return current_view(record, aws.stepfunctions(), settings.state_machine_arn)


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    # The resolver's route pattern matches only some characters (no emoji, for instance);
    # when API Gateway did match /tasks/{taskId}, the client sent a bad taskId: 400.
    event = app.current_event
    if event.http_method == "GET" and "taskId" in event.path_parameters:
        raise invalid_request(FieldError("taskId", f"taskId must be {TASK_ID_RULE}"))
    return json_response(HTTPStatus.NOT_FOUND, {"message": "Not found"})


@app.get("/tasks/<taskId>")
def get_task(taskId: str) -> Response[Any]:
    # API Gateway's pathParameters hold the decoded value; the route match is still encoded.
    task_id = app.current_event.path_parameters.get("taskId") or unquote(taskId)
    if _TASK_ID.fullmatch(task_id):
        logger.append_keys(taskId=task_id)
    view = task_view(task_id, api_settings())
    return json_response(HTTPStatus.OK, view.body())


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
