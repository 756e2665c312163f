"""Lambda's API for the stack's functions, as the AWS endpoint serves it; the runtime that
runs them (workers, pools) is below, in ftb/localcloud/lambda_runtime.

- `control_api`: Invoke, GetFunction, ListFunctions, Get/UpdateFunctionConfiguration, and
  the deployment package downloads that GetFunction's `Code.Location` points at;
- `code_package`: the deployment package (zip, CodeSha256);
- `function_resources`: the template's tags and permissions of each function;
- `function_api`: the read-only function sub-resources (versions, aliases, tags, policy...);
- `event_source_mappings`: the SQS event source mappings, with pause and resume.

`register_function_api` puts the first on an endpoint; the control plane
(ftb/localcloud/control_plane.py) adds the others once the stack is provisioned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall
from ftb.localcloud.lambda_api.control_api import LambdaControlApi
from ftb.localcloud.lambda_runtime import LambdaRuntime

if TYPE_CHECKING:
    from ftb.localcloud.endpoint import AwsEndpoint


class _FunctionApi:
    """The runtime's function API (Invoke, GetFunction, ...) as a service handler."""

    operations = LambdaControlApi.operations

    def __init__(self, api: LambdaControlApi) -> None:
        self.api = api

    def handle(self, call: AwsCall) -> Response | None:
        if call.operation not in self.operations:
            return None
        return self.api.handle(call.request)


class _CodeDownloads:
    """The functions' deployment packages that GetFunction's `Code.Location` points at."""

    def __init__(self, api: LambdaControlApi) -> None:
        self.api = api

    def handle(self, call: AwsCall) -> Response | None:
        return self.api.download(call.request)


def register_function_api(endpoint: AwsEndpoint, runtime: LambdaRuntime) -> LambdaControlApi:
    """Answer Lambda's function API for `runtime`'s functions on `endpoint`; the API object is
    returned for the control plane, which reuses its shapes."""
    functions = LambdaControlApi(runtime)
    endpoint.register("lambda", _FunctionApi(functions))
    # GetFunction's Code.Location: a plain (unsigned) GET, so no service is named.
    endpoint.register("", _CodeDownloads(functions))
    return functions


__all__ = ["LambdaControlApi", "register_function_api"]
