"""POST /tasks: accept a task once, queue it, answer 202.

The tasks table is the idempotency record: a conditional put claims the taskId, so the same
task submitted twice is queued (and run) once, and a different payload under a used taskId
is refused with 409 without touching the first task.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from lambda_support import aws
from lambda_support.api import install_error_handlers, json_response
from lambda_support.observability import logger, tracer
from lambda_support.settings import ApiSettings, api_settings
from task_domain import records
from task_domain.errors import ApiError, service_unavailable
from task_domain.models import TaskStatus, TaskSubmission, payload_digest, utc_now
from task_domain.status import current_view
from task_domain.submission import parse_submission

app = APIGatewayRestResolver()
install_error_handlers(app)


@tracer.capture_method
def enqueue(submission: TaskSubmission, settings: ApiSettings) -> None:
    """Send the task to the task queue; a failure becomes a 503 the client can retry."""
    body = submission.workflow_input().to_json()
    try:
        aws.sqs().send_message(QueueUrl=settings.task_queue_url, MessageBody=body)
    except (ClientError, BotoCoreError):
        logger.exception("SendMessage failed; the client's retry will queue the task")
        raise service_unavailable(
            "The task could not be queued; retry the same request later",
            taskId=submission.task_id,
        ) from None
    table = aws.table(settings.tasks_table_name)
    try:
        records.mark_enqueued(table, submission.task_id)
    except (ClientError, BotoCoreError):
        # The message is on its way; at worst a retried submission queues it again, and the
        # execution name makes that second message a no-op.
        logger.warning("Could not mark the task enqueued", exc_info=True)


def submit(submission: TaskSubmission, settings: ApiSettings) -> Response[Any]:
    digest = payload_digest(submission.payload)
    table = aws.table(settings.tasks_table_name)
    record = records.TaskRecord.new(submission.task_id, digest, utc_now())
    existing = records.create(table, record)
    if existing is None:
        enqueue(submission, settings)
        logger.info("Task accepted")
        body = {"taskId": submission.task_id, "status": TaskStatus.QUEUED.value}
        return json_response(HTTPStatus.ACCEPTED, body)
    # A redrive's name reservation never matches a payload: the name belongs to another task.
    if existing.reserved_for is not None or existing.payload_digest != digest:
        raise ApiError(
            HTTPStatus.CONFLICT,
            "taskId is already used by a task with a different payload",
            extra={"taskId": submission.task_id},
        )
    if not existing.enqueued:
        logger.info("Duplicate of a task that was never queued: queueing it now")
        enqueue(submission, settings)
    logger.info("Duplicate submission; answering with the current status")
    view = current_view(existing, aws.stepfunctions(), settings.state_machine_arn)
    return json_response(HTTPStatus.OK, view.body())


@app.post("/tasks")
def post_task() -> Response[Any]:
    event = app.current_event
    submission = parse_submission(
        event.headers.get("content-type"), event.body, bool(event.is_base64_encoded)
    )
    logger.append_keys(taskId=submission.task_id)
    return submit(submission, api_settings())


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
