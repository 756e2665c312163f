"""The REST API, served locally as API Gateway serves it.

Real HTTP requests become Lambda proxy events (payload format 1.0) after the method's request
validator and model have been applied the way API Gateway applies them; responses that are
not valid proxy responses, and function errors, become API Gateway's 502. Errors API Gateway
produces itself (unknown route, invalid body) use its gateway responses, including those the
template customizes (AWS::ApiGateway::GatewayResponse).

URLs: `http://<host>:<port>/<stage>/<path>` (the stack's `execute-api` URL with the local host
in front), and `/restapis/<apiId>/<stage>/_user_request_/<path>` when a stack has several APIs.

`sigv4.py` (AWS_IAM methods: the request's Signature Version 4), `api_keys.py` (API keys and
usage plans), `models.py` (the API as the template defines it, and its routing of paths),
`responses.py`
(API Gateway's own answers), `proxy.py` (proxy events and responses), `validation.py`
(request validators), `routing.py` (the gateway: route, validate, integrate), `server.py`
(the HTTP server).
"""

from ftb.localcloud.apigateway.models import (
    ApiMethod,
    ApiResource,
    GatewayResponse,
    MockIntegration,
    RestApi,
)
from ftb.localcloud.apigateway.proxy import HttpRequest, proxy_event, proxy_response
from ftb.localcloud.apigateway.responses import Response, gateway_response
from ftb.localcloud.apigateway.routing import (
    INTEGRATION_TIMEOUT_SECONDS,
    MAX_LAMBDA_EVENT_BYTES,
    ApiGateway,
)
from ftb.localcloud.apigateway.server import MAX_REQUEST_BODY_BYTES, ApiServer
from ftb.localcloud.apigateway.validation import validate_json_body

__all__ = [
    "INTEGRATION_TIMEOUT_SECONDS",
    "MAX_LAMBDA_EVENT_BYTES",
    "MAX_REQUEST_BODY_BYTES",
    "ApiGateway",
    "ApiMethod",
    "ApiResource",
    "ApiServer",
    "GatewayResponse",
    "HttpRequest",
    "MockIntegration",
    "Response",
    "RestApi",
    "gateway_response",
    "proxy_event",
    "proxy_response",
    "validate_json_body",
]
