"""The services the local cloud emulates, one module each, declared once in the registry
(ftb/localcloud/registry.py): what each provisions, what a hot reload does with it, how its
data is saved and restored, and which of its calls moto may answer. The registry imports
this package on its first read; the order here is the registration order.

A new service is one module here (or a package of its own that registers itself the same
way): its provisioners, its in-place updates, its persistence and its moto responses.
"""

from ftb.localcloud.services import (  # noqa: F401  (each registers itself)
    apigateway,
    cloudformation,
    cloudwatch,
    dynamodb,
    fis,
    lambda_,
    logs,
    sqs,
    stepfunctions,
)
