"""Provisioning: one small provisioner per resource type, a module per service, applied in the
template's dependency order by the deploy engine (`context.py` holds the registry)."""

# The service modules register their provisioners when imported.
from ftb.localcloud.provision import (  # noqa: F401
    apigateway,
    dynamodb,
    lambda_,
    logs,
    sqs,
    stepfunctions,
)
from ftb.localcloud.provision.context import (
    PROVISIONERS,
    EnvOverride,
    EventSourceMapping,
    LocalStack,
    ProvisionContext,
    ProvisionError,
    Queue,
    placeholder,
    provisioner,
    unused_overrides,
)
from ftb.localcloud.provision.logs import ensure_log_group

__all__ = [
    "PROVISIONERS",
    "EnvOverride",
    "EventSourceMapping",
    "LocalStack",
    "ProvisionContext",
    "ProvisionError",
    "Queue",
    "ensure_log_group",
    "placeholder",
    "provisioner",
    "unused_overrides",
]
