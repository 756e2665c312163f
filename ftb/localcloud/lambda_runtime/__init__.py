"""The local Lambda runtime: the runtime (`runtime.py`), its worker processes (`pool.py`, the
child `worker.py`, the frame protocol between them `frames.py`), the errors and the model,
and log shipping to CloudWatch Logs. Lambda's API over it is ftb/localcloud/lambda_api."""

from ftb.localcloud.lambda_runtime.errors import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    LambdaServiceError,
    RequestTooLargeError,
    ResourceNotFoundError,
    RuntimeStoppedError,
    TooManyRequestsError,
)
from ftb.localcloud.lambda_runtime.model import (
    DEFAULT_ACCOUNT_ID,
    LATEST,
    FunctionSpec,
    InvokeFaults,
    InvokeResult,
    function_error,
)
from ftb.localcloud.lambda_runtime.runtime import (
    MAX_PAYLOAD_BYTES,
    LambdaRuntime,
    default_echo,
    log_stream_name,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "LATEST",
    "MAX_PAYLOAD_BYTES",
    "FunctionSpec",
    "InvalidParameterValueError",
    "InvalidRequestContentError",
    "InvokeFaults",
    "InvokeResult",
    "LambdaRuntime",
    "LambdaServiceError",
    "RequestTooLargeError",
    "ResourceNotFoundError",
    "RuntimeStoppedError",
    "TooManyRequestsError",
    "default_echo",
    "function_error",
    "log_stream_name",
]
