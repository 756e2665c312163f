"""How many operations of the emulated services the endpoint answers and how many it refuses,
counted from botocore's service models with the refusals' rule (ftb/localcloud/endpoint/
refusals.py): an operation is answered when a handler declares it (`operations`) or moto
implements it (and it is not refused anyway), else refused.

    python -m ftb.localcloud.operation_coverage
"""

from __future__ import annotations

import botocore.session

from ftb.localcloud.cloudformation import CloudFormationApi
from ftb.localcloud.cloudwatch.handler import CloudWatchApi
from ftb.localcloud.endpoint.refusals import answered, emulated_services
from ftb.localcloud.fis import FisApi
from ftb.localcloud.lambda_api.control_api import LambdaControlApi
from ftb.localcloud.lambda_api.event_source_mappings import EventSourceMappingApi
from ftb.localcloud.lambda_api.function_api import FunctionSubresourceApi
from ftb.localcloud.logs_insights.query_definitions import QueryDefinitionsApi
from ftb.localcloud.logs_insights.service import LogsInsightsApi
from ftb.localcloud.stepfunctions_reads import StepFunctionsReads

# What the handlers `ftb local` registers declare, by service (ftb/localcloud/local.py,
# control_plane.py).
HANDLERS: dict[str, frozenset[str]] = {
    "logs": LogsInsightsApi.operations | QueryDefinitionsApi.operations,
    "states": StepFunctionsReads.operations,
    "lambda": (
        LambdaControlApi.operations
        | EventSourceMappingApi.operations
        | FunctionSubresourceApi.operations
    ),
    "cloudformation": CloudFormationApi.operations,
    "monitoring": CloudWatchApi.operations,
    "fis": FisApi.operations,
}
# botocore's model name of each signing name.
MODELS = {"states": "stepfunctions", "monitoring": "cloudwatch"}


def declared(service: str) -> frozenset[str]:
    """The operations the service's handlers declare."""
    return HANDLERS.get(service, frozenset())


def model_operations(service: str) -> list[str]:
    model = botocore.session.get_session().get_service_model(MODELS.get(service, service))
    return list(model.operation_names)


def coverage() -> dict[str, tuple[list[str], list[str]]]:
    """Per service: (answered, refused) operation names of botocore's model."""
    result: dict[str, tuple[list[str], list[str]]] = {}
    for service in emulated_services():
        claimed = declared(service)
        answers: list[str] = []
        refusals: list[str] = []
        for operation in model_operations(service):
            (answers if answered(service, operation, claimed) else refusals).append(operation)
        result[service] = (answers, refusals)
    return result


def main() -> None:
    counts = coverage()
    total_answered = sum(len(a) for a, _ in counts.values())
    total_refused = sum(len(r) for _, r in counts.values())
    for service, (answers, refusals) in counts.items():
        print(f"{service}: {len(answers)} answered, {len(refusals)} refused")
    print(
        f"{total_answered + total_refused} operations: "
        f"{total_answered} answered, {total_refused} refused"
    )


if __name__ == "__main__":
    main()
