"""AWS Lambda: the functions (run by ftb/localcloud/lambda_runtime, answered by
ftb/localcloud/lambda_api; moto's Lambda is never consulted) and their SQS mappings."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.persistence import functions as saved
from ftb.localcloud.registry import Persistence, Service, register
from ftb.localcloud.services._common import provided

FUNCTION, MAPPING = "AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping"


def _restore(document: Any, keeper: Any, summary: Any) -> None:
    summary.function_changes = saved.describe(document)
    saved.restore(document, keeper.runtime)


register(
    Service(
        name="lambda",
        signing_name="lambda",
        # moto's Lambda holds none of the runtime's functions: only lambda_api answers.
        moto_responses=(("awslambda", "LambdaResponse"),),
        moto_consulted=False,
        rest=True,
        provisioners=provided(FUNCTION, MAPPING),
        live_properties={
            FUNCTION: frozenset(
                {
                    "Code",
                    "Handler",
                    "Environment",
                    "Timeout",
                    "MemorySize",
                    "ReservedConcurrentExecutions",
                    "Description",
                    "Runtime",
                    "Layers",
                    "LoggingConfig",
                    "Role",
                    "TracingConfig",
                    "Architectures",
                    "Tags",
                    "DependsOn",
                    "Condition",
                }
            )
        },
        rebuilt_prefixes=(MAPPING,),
        # Configuration changed through the API (UpdateFunctionConfiguration) survives.
        persistence=Persistence(
            key="functions",
            capture=lambda keeper: saved.capture(keeper.runtime, keeper.function_baseline),
            restore=_restore,
            order=50,
        ),
    )
)
