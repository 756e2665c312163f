"""Which AWS operation a request to the endpoint is, and the error shapes to answer it with.

The endpoint serves several protocols on one port: JSON (`X-Amz-Target: Prefix.Operation`:
CloudWatch Logs, Step Functions, DynamoDB, SQS), query (a form body with `Action=`:
CloudFormation, older SQS clients) and REST-JSON (Lambda's `/2015-03-31/...` paths). The
service is the SigV4 credential scope's when the request is signed (every SDK and the AWS CLI
sign), else the target prefix or the query API version.
"""

from __future__ import annotations

import io
import json
import re
import sys
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/(?P<service>[^/]+)/")
# JSON protocol: the X-Amz-Target prefix of each service the endpoint serves.
_TARGET_PREFIXES = {
    "Logs_20140328": "logs",
    "AWSStepFunctions": "states",
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "GraniteServiceVersion20100801": "monitoring",  # CloudWatch (ftb/localcloud/cloudwatch)
}
# Query protocol: the API version names the service when the request is not signed.
_QUERY_VERSIONS = {"2010-05-15": "cloudformation", "2012-11-05": "sqs"}
_REST_PREFIXES = {"/2015-03-31/": "lambda", "/2017-03-31/": "lambda", "/2019-09-25/": "lambda"}
_QUERY_CONTENT = "application/x-www-form-urlencoded"


@dataclass
class AwsCall:
    """One request, identified: `service` is the signing name ("logs", "states", "lambda",
    "cloudformation", ...), `operation` the API operation when the protocol names it (JSON and
    query; REST operations are told by method and path)."""

    service: str | None
    operation: str | None
    protocol: str  # "json", "query" or "rest"
    request: Request
    body: bytes = b""
    _params: dict[str, str] | None = field(default=None, repr=False)

    def json(self) -> Any:
        """The JSON body (an empty object when there is none); ValueError when it is not JSON."""
        return json.loads(self.body) if self.body.strip() else {}

    def params(self) -> dict[str, str]:
        """The query protocol's parameters (form body and query string), last value wins."""
        if self._params is None:
            merged = {key: values[-1] for key, values in self.request.args.lists()}
            if self.body:
                parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
                merged.update({key: values[-1] for key, values in parsed.items()})
            self._params = merged
        return self._params


class ServiceHandler(Protocol):
    """Answers some operations of one service; None lets the next handler (or moto) answer."""

    def handle(self, call: AwsCall) -> Response | None: ...


def signed_for(environ: dict[str, Any]) -> str | None:
    """The service a SigV4-signed request was signed for (None when unsigned)."""
    match = _CREDENTIAL_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:  # presigned URLs carry the scope in the query string
        match = re.search(
            r"X-Amz-Credential=[^/&]+(?:/|%2F)[^/&]+(?:/|%2F)[^/&]+(?:/|%2F)(?P<service>[^/&%]+)",
            environ.get("QUERY_STRING", ""),
        )
    return match["service"] if match else None


def identify(environ: dict[str, Any]) -> AwsCall:
    """Identify the call. The body is read once and put back, so moto can still read it."""
    body = _buffer_body(environ)
    request = Request(environ)
    signed = signed_for(environ)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target and "." in target:
        prefix, _, operation = target.partition(".")
        return AwsCall(signed or _TARGET_PREFIXES.get(prefix), operation, "json", request, body)
    path = environ.get("PATH_INFO", "")
    for rest_prefix, service in _REST_PREFIXES.items():
        if path.startswith(rest_prefix):
            return AwsCall(signed or service, None, "rest", request, body)
    call = AwsCall(signed, None, "query", request, body)
    is_form = (environ.get("CONTENT_TYPE") or "").startswith(_QUERY_CONTENT)
    if is_form or "Action=" in environ.get("QUERY_STRING", ""):
        params = call.params()
        call.operation = params.get("Action")
        if call.service is None:
            call.service = _QUERY_VERSIONS.get(params.get("Version", ""))
    else:
        call.protocol = "rest"
    return call


def _buffer_body(environ: dict[str, Any]) -> bytes:
    if "ftb.body" in environ:
        return environ["ftb.body"]  # type: ignore[no-any-return]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    body = stream.read(length) if (stream is not None and length > 0) else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["ftb.body"] = body
    return body


# -- answers, in each protocol's shape ---------------------------------------------------------


def request_id() -> str:
    return str(uuid.uuid4())


def json_response(document: Any, status: int = 200) -> Response:
    """A JSON-protocol (1.1) answer."""
    return Response(
        json.dumps(document, separators=(",", ":")),
        status=status,
        headers={"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id()},
    )


def json_error(code: str, message: str, status: int = 400) -> Response:
    """A JSON-protocol error: botocore reads the code from `__type` (and x-amzn-ErrorType)."""
    response = json_response({"__type": code, "message": message}, status)
    response.headers["x-amzn-ErrorType"] = code
    return response


def internal_failure(call: AwsCall, error: BaseException) -> Response:
    """AWS's answer to a request that failed inside the service (a bug of the local cloud's
    own layer): `InternalFailure`, HTTP 500, in the call's protocol ("Common Errors" of each
    API reference, e.g.
    https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html). The
    traceback goes to the cloud's log (stderr), with the operation it failed."""
    print(
        f"[ftb] internal failure answering {call.service}:{call.operation}",
        file=sys.stderr,
    )
    traceback.print_exception(error, file=sys.stderr)
    message = (
        f"The request processing has failed because of an unknown error ({type(error).__name__})"
    )
    if call.protocol == "query":
        return query_error("InternalFailure", message, 500, sender=False)
    if call.protocol == "rest":
        return rest_json_error("InternalFailure", message, 500)
    return json_error("InternalFailure", message, 500)


def rest_json_response(document: Any, status: int = 200) -> Response:
    """A REST-JSON answer (Lambda)."""
    body = b"" if status == 204 else json.dumps(document).encode()
    return Response(
        body,
        status=status,
        headers={"Content-Type": "application/json", "x-amzn-RequestId": request_id()},
    )


def rest_json_error(code: str, message: str, status: int = 400) -> Response:
    """A REST-JSON error in Lambda's shape: the code in x-amzn-ErrorType, `Type` and `message`."""
    kind = "User" if status < 500 else "Service"
    response = rest_json_response({"Type": kind, "message": message}, status)
    response.headers["x-amzn-ErrorType"] = code
    return response


def query_response(operation: str, result_xml: str, namespace: str) -> Response:
    """A query-protocol answer: `<OperationResponse><OperationResult>...`."""
    body = (
        f'<{operation}Response xmlns="{namespace}">'
        f"<{operation}Result>{result_xml}</{operation}Result>"
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return Response(body, status=200, content_type="text/xml")


def query_error(code: str, message: str, status: int = 400, sender: bool = True) -> Response:
    """A query-protocol error (CloudFormation's and SQS's XML shape)."""
    from xml.sax.saxutils import escape

    kind = "Sender" if sender else "Receiver"
    body = (
        '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
        f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id()}</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, content_type="text/xml")
