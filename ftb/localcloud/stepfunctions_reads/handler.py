"""The `states` service handler: Step Functions' execution reads, answered as AWS answers them.

Registered on the AwsEndpoint before moto. It reads moto's engine in-process (the executions
moto runs) and shapes the answers itself: moto's GetExecutionHistory ignores paging, order and
`includeExecutionData`, its ListExecutions pages with its own token format and takes any
`statusFilter`, its DescribeExecution leaves out `inputDetails` and the redrive fields, and its
DescribeStateMachineForExecution describes the state machine as it is now (with
DescribeStateMachine's fields) instead of the definition the execution ran.

When the execution or state machine is not there, moto's backend raises its error
(ExecutionDoesNotExist, StateMachineDoesNotExist: AWS's codes) and the handler answers it in
the same shape. A call it cannot read from the engine (an ARN of no Step Functions account and
region, an input that is not a string, executions of moto's mock backend with the engine off)
is left to moto. Anything else that fails is a bug of ours: AWS's InternalFailure (HTTP 500,
https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html) with the
traceback in the cloud's log, never a silent fall back to moto's answers, which the paragraph
above says are wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, internal_failure, json_error, json_response
from ftb.localcloud.moto_internals import backends
from ftb.localcloud.moto_internals.errors import ServiceError, answering_service_errors
from ftb.localcloud.stepfunctions_reads.executions import check_list_request, describe, list_page
from ftb.localcloud.stepfunctions_reads.history import epoch_seconds, history_page
from ftb.localcloud.stepfunctions_reads.paging import StatesError, page_size


class NotTheEngines(Exception):
    """A call the engine cannot answer (see the module docstring): moto answers it. Its own
    class, not LookupError: a KeyError or IndexError of ours must not be taken for it."""


def _backend(arn: str) -> Any:
    """moto's Step Functions backend of the ARN's account and region (the engine's when
    `execute_state_machine` is on)."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "states":
        raise NotTheEngines(arn)
    return backends.stepfunctions_of(parts[4], parts[3])


def _execution(arn: Any) -> Any:
    """The engine's execution for the ARN; NotTheEngines when moto should answer instead,
    ServiceError when moto's backend refuses the ARN (not found)."""
    if not isinstance(arn, str):
        raise NotTheEngines(arn)
    backend = _backend(arn)
    execution = answering_service_errors(lambda: backend.describe_execution(arn))
    if not hasattr(execution, "exec_worker"):  # moto's mock executions (engine off)
        raise NotTheEngines(arn)
    return execution


def get_execution_history(request: dict[str, Any]) -> dict[str, Any]:
    page_size(request.get("maxResults"))  # AWS validates the input before it looks anything up
    execution = _execution(request.get("executionArn"))
    worker = execution.exec_worker
    env = getattr(worker, "env", None)
    events = env.event_manager.get_event_history() if env is not None else []
    return history_page(events, request)


def list_executions(request: dict[str, Any]) -> dict[str, Any]:
    check_list_request(request)  # AWS validates the input before it looks anything up
    arn = request.get("stateMachineArn")
    if not isinstance(arn, str):
        raise NotTheEngines(arn)
    backend = _backend(arn)
    machine = answering_service_errors(lambda: backend.describe_state_machine(arn))
    executions = [e for e in machine.executions if hasattr(e, "exec_worker")]
    if len(executions) != len(machine.executions):
        raise NotTheEngines(arn)
    return list_page(executions, request)


def describe_execution(request: dict[str, Any]) -> dict[str, Any]:
    return describe(_execution(request.get("executionArn")))


def describe_state_machine_for_execution(request: dict[str, Any]) -> dict[str, Any]:
    """The state machine the execution ran (its snapshot at the start), in the output shape of
    DescribeStateMachineForExecution (updateDate, no status, type or creationDate)."""
    machine = _execution(request.get("executionArn")).state_machine
    document: dict[str, Any] = {
        "stateMachineArn": getattr(machine, "source_arn", None) or machine.arn,
        "name": machine.name,
        "definition": machine.definition,
        "roleArn": machine.roleArn,
        "updateDate": epoch_seconds(machine.update_date),
        "loggingConfiguration": machine.loggingConfiguration,
        "tracingConfiguration": machine.tracingConfiguration,
        "encryptionConfiguration": machine.encryptionConfiguration,
    }
    return document


_OPERATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "GetExecutionHistory": get_execution_history,
    "ListExecutions": list_executions,
    "DescribeExecution": describe_execution,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
}


class StepFunctionsReads:
    """Answers Step Functions' execution reads (see the module's docstring)."""

    operations = frozenset(_OPERATIONS)

    def handle(self, call: AwsCall) -> Response | None:
        answer = _OPERATIONS.get(call.operation or "")
        if answer is None or call.protocol != "json":
            return None
        try:
            request = call.json()
        except ValueError:
            return json_error("SerializationException", "The request body is not valid JSON")
        if not isinstance(request, dict):
            return json_error("SerializationException", "The request body is not a JSON object")
        try:
            return json_response(answer(request))
        except StatesError as error:
            return json_error(error.code, error.message)
        except ServiceError as error:
            return json_error(error.code, error.message, error.status)
        except NotTheEngines:  # see the module docstring
            return None
        except Exception as error:  # a bug of ours: AWS's 500, the cause in the cloud's log
            return internal_failure(call, error)
