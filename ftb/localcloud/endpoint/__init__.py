"""The local AWS endpoint: moto's server application, with the handlers registered per service
(Lambda's API, Logs Insights, ...) answering first, on one port."""

from ftb.localcloud.endpoint.server import (
    AwsEndpoint,
    display_host,
    enable_step_functions_execution,
)

__all__ = ["AwsEndpoint", "display_host", "enable_step_functions_execution"]
