"""Lambda's event source mapping API over the running SQS pollers: List, Get and Update.

The mappings are the template's (`AWS::Lambda::EventSourceMapping`), provisioned and polled by
ftb/localcloud/event_sources. UpdateEventSourceMapping pauses (`Enabled=false`) or resumes a
mapping and changes `BatchSize`, `MaximumBatchingWindowInSeconds` and
`FunctionResponseTypes` from the next poll. Create and Delete are refused: the stack's
mappings come from its template (a mapping made here would never be polled).

Shapes: Lambda API reference, EventSourceMappingConfiguration (LastModified is a timestamp,
epoch seconds in REST-JSON; UpdateEventSourceMapping answers 202) and the limits of
UpdateEventSourceMapping for SQS: BatchSize 1-10,000 (above 10 the batching window must be at
least 1 s), MaximumBatchingWindowInSeconds 0-300.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from ftb.localcloud.endpoint.calls import AwsCall, rest_json_error, rest_json_response
from ftb.localcloud.lambda_runtime.errors import (
    InvalidParameterValueError,
    InvalidRequestContentError,
    LambdaServiceError,
    ResourceNotFoundError,
    ValidationError,
)
from ftb.localcloud.provision import EventSourceMapping

_MAPPINGS = re.compile(r"^/2015-03-31/event-source-mappings/?$")
_MAPPING = re.compile(r"^/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)/?$")
_UPDATABLE = {
    "UUID",
    "FunctionName",
    "Enabled",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
}
_CHANGEABLE = _UPDATABLE - {"UUID", "FunctionName"}
_MAX_ITEMS = 10000  # ListEventSourceMappings MaxItems: 1-10,000
_NOT_FOUND = "The resource you requested does not exist."


class Poller(Protocol):
    """What the API needs of a mapping's pollers (ftb/localcloud/event_sources.SqsPoller)."""

    mapping: EventSourceMapping
    last_modified: float

    @property
    def state(self) -> str: ...

    def update(
        self,
        *,
        enabled: bool | None = None,
        batch_size: int | None = None,
        batching_window_seconds: int | None = None,
        report_batch_item_failures: bool | None = None,
    ) -> None: ...


class EventSourceMappingApi:
    """A service handler ("lambda") for `/2015-03-31/event-source-mappings`. Creating or
    deleting a mapping is refused here with Lambda's InvalidParameterValueException (and by
    the refusals' `REFUSED_ANYWAY`, were this handler absent)."""

    operations = frozenset(
        {"ListEventSourceMappings", "GetEventSourceMapping", "UpdateEventSourceMapping"}
    )

    def __init__(
        self,
        pollers: Sequence[Poller],
        function_arn: Callable[[str], str],
        region: str,
        account_id: str,
    ) -> None:
        self._pollers = list(pollers)
        self._function_arn = function_arn
        self._region = region
        self._account_id = account_id

    def handle(self, call: AwsCall) -> Response | None:
        request = call.request
        try:
            if _MAPPINGS.match(request.path):
                if request.method == "GET":
                    return self._list(request)
                raise InvalidParameterValueError(
                    "The local cloud's event source mappings are the template's; "
                    "CreateEventSourceMapping is not supported locally",
                )
            match = _MAPPING.match(request.path)
            if match is None:
                return None
            poller = self._find(unquote(match["uuid"]))
            if request.method == "GET":
                return rest_json_response(self.configuration(poller))
            if request.method == "PUT":
                return self._update(poller, call)
            raise InvalidParameterValueError(
                "The local cloud's event source mappings are the template's; "
                "DeleteEventSourceMapping is not supported locally (UpdateEventSourceMapping "
                "with Enabled=false pauses one)",
            )
        except LambdaServiceError as error:
            return rest_json_error(error.error_type, error.message, error.status_code)

    # -- operations ---------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        source = request.args.get("EventSourceArn")
        function = request.args.get("FunctionName")
        pollers = [
            poller
            for poller in self._pollers
            if (source is None or poller.mapping.queue.arn == source)
            and (function is None or self._same_function(poller, function))
        ]
        start = _int_arg(request.args.get("Marker"), "Marker", 0, len(pollers)) or 0
        size = _int_arg(request.args.get("MaxItems"), "MaxItems", 1, _MAX_ITEMS) or 100
        page = pollers[start : start + size]
        document: dict[str, Any] = {"EventSourceMappings": [self.configuration(p) for p in page]}
        if start + size < len(pollers):
            document["NextMarker"] = str(start + size)
        return rest_json_response(document)

    def _update(self, poller: Poller, call: AwsCall) -> Response:
        try:
            body = call.json()
        except ValueError:
            raise InvalidRequestContentError("Could not parse request body into json") from None
        if not isinstance(body, dict):
            raise InvalidRequestContentError("The request body must be a JSON object")
        unsupported = sorted(set(body) - _UPDATABLE)
        if unsupported:
            raise InvalidParameterValueError(
                f"The local cloud cannot change {', '.join(unsupported)} of an event source "
                f"mapping; it can change {', '.join(sorted(_CHANGEABLE))}",
            )
        if "FunctionName" in body and not self._same_function(poller, str(body["FunctionName"])):
            raise InvalidParameterValueError(
                "The local cloud cannot point an event source mapping at another function",
            )
        enabled = body.get("Enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise InvalidParameterValueError("Enabled must be a boolean")
        mapping = poller.mapping
        batch_size = _int_field(body, "BatchSize", "batchSize", 1, 10000)
        window = _int_field(
            body, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300
        )
        new_size = batch_size if batch_size is not None else mapping.batch_size
        new_window = window if window is not None else mapping.batching_window_seconds
        if new_size > 10 and new_window < 1:
            raise InvalidParameterValueError(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size "
                "is greater than 10",
            )
        reporting = _response_types(body.get("FunctionResponseTypes"))
        poller.update(
            enabled=enabled,
            batch_size=batch_size,
            batching_window_seconds=window,
            report_batch_item_failures=reporting,
        )
        return rest_json_response(self.configuration(poller), status=202)

    # -- shapes -------------------------------------------------------------------------

    def configuration(self, poller: Poller) -> dict[str, Any]:
        """EventSourceMappingConfiguration for an SQS mapping."""
        mapping = poller.mapping
        document: dict[str, Any] = {
            "UUID": mapping.uuid,
            "BatchSize": mapping.batch_size,
            "MaximumBatchingWindowInSeconds": mapping.batching_window_seconds,
            "EventSourceArn": mapping.queue.arn,
            "FunctionArn": self._function_arn(mapping.function_name),
            "LastModified": poller.last_modified,
            "State": poller.state,
            # Created by CloudFormation or changed by UpdateEventSourceMapping: a user's doing.
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": (
                ["ReportBatchItemFailures"] if mapping.report_batch_item_failures else []
            ),
            "EventSourceMappingArn": (
                f"arn:aws:lambda:{self._region}:{self._account_id}:"
                f"event-source-mapping:{mapping.uuid}"
            ),
        }
        if mapping.maximum_concurrency is not None:
            document["ScalingConfig"] = {"MaximumConcurrency": mapping.maximum_concurrency}
        return document

    def _find(self, uuid: str) -> Poller:
        for poller in self._pollers:
            if poller.mapping.uuid == uuid:
                return poller
        raise ResourceNotFoundError(_NOT_FOUND)

    def _same_function(self, poller: Poller, name: str) -> bool:
        """A name, ARN or partial ARN (`123456789012:function:name`) of the mapping's function."""
        wanted = poller.mapping.function_name
        bare = name.split(":function:")[-1].split(":")[0] if ":function:" in name else name
        return bare == wanted or name == self._function_arn(wanted)


def _int_arg(text: str | None, name: str, low: int, high: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise InvalidParameterValueError(f"Invalid {name}: {text}")
    return value


def _int_field(body: dict[str, Any], key: str, member: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValueError(f"{key} must be an integer")
    if not low <= value <= high:
        bound = (
            f"less than or equal to {high}" if value > high else f"greater than or equal to {low}"
        )
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value {bound}",
        )
    return value


def _response_types(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(item != "ReportBatchItemFailures" for item in value):
        raise ValidationError(
            "1 validation error detected: Value at 'functionResponseTypes' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [ReportBatchItemFailures] "
            f"({json.dumps(value)})",
        )
    return bool(value)
