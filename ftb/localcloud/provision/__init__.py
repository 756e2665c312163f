"""Provisioning: one small provisioner per resource type, a module per service, applied in the
template's dependency order (`context.py` holds the registry and the loop)."""

# The service modules register their provisioners when imported.
# FIS experiment templates (ftb/localcloud/fis), registered the same way.
from ftb.localcloud.fis import provision as _fis_provision  # noqa: F401
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
    provision,
    provisioner,
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
    "provision",
    "provisioner",
]
