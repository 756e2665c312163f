"""The local AWS endpoint: moto's server application plus the Lambda function API of the local
runtime, on one port."""

from ftb.localcloud.endpoint.server import (
    AwsEndpoint,
    display_host,
    enable_step_functions_execution,
)

__all__ = ["AwsEndpoint", "display_host", "enable_step_functions_execution"]
