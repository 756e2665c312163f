"""FIS's control plane on the local endpoint (REST-JSON, signing name `fis`).

Answered: ListExperimentTemplates, GetExperimentTemplate, StartExperiment, GetExperiment,
ListExperiments, StopExperiment. Every other FIS operation is refused by the endpoint's
refusals (`UnknownOperationException`): the templates belong to the stack, and the rest
(target account configurations, resolved targets, actions, safety levers) is not emulated.
Errors in FIS's shape: `x-amzn-ErrorType` and `{"message"}`; an unknown id is 404
ResourceNotFoundException, bad input 400 ValidationException.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, request_id
from ftb.localcloud.fis.service import FisService

MAX_RESULTS = 100


def _answer(document: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(document),
        status=status,
        headers={"Content-Type": "application/json", "x-amzn-RequestId": request_id()},
    )


def _error(code: str, message: str, status: int) -> Response:
    response = _answer({"message": message}, status)
    response.headers["x-amzn-ErrorType"] = code
    return response


class _Invalid(Exception):
    pass


def _page(items: list[Any], call: AwsCall, key: str) -> dict[str, Any]:
    args = call.request.args
    try:
        size = int(args.get("maxResults", MAX_RESULTS))
        start = int(args.get("nextToken") or 0)
    except ValueError:
        raise _Invalid("maxResults and nextToken must come from a previous answer") from None
    if not 1 <= size <= MAX_RESULTS or start < 0:
        raise _Invalid(f"maxResults must be 1-{MAX_RESULTS}")
    document: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        document["nextToken"] = str(start + size)
    return document


class FisApi:
    """The endpoint's handler for the `fis` service."""

    operations = frozenset(
        {
            "ListExperimentTemplates",
            "GetExperimentTemplate",
            "StartExperiment",
            "GetExperiment",
            "ListExperiments",
            "StopExperiment",
        }
    )

    def __init__(self, service: FisService) -> None:
        self.service = service

    def handle(self, call: AwsCall) -> Response | None:
        if call.operation not in self.operations:
            return None
        try:
            return getattr(self, f"_{call.operation}")(call)  # type: ignore[no-any-return]
        except _Invalid as error:
            return _error("ValidationException", str(error), 400)

    @staticmethod
    def _last(call: AwsCall) -> str:
        return call.request.path.rstrip("/").rsplit("/", 1)[-1]

    def _ListExperimentTemplates(self, call: AwsCall) -> Response:
        templates = sorted(self.service.templates.values(), key=lambda t: t.id)
        return _answer(_page([t.summary() for t in templates], call, "experimentTemplates"))

    def _GetExperimentTemplate(self, call: AwsCall) -> Response:
        template = self.service.templates.get(self._last(call))
        if template is None:
            return _error(
                "ResourceNotFoundException",
                f"Experiment template not found: {self._last(call)}",
                404,
            )
        return _answer({"experimentTemplate": template.to_api()})

    def _StartExperiment(self, call: AwsCall) -> Response:
        try:
            body = call.json()
        except ValueError:
            raise _Invalid("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise _Invalid("the request body must be a JSON object")
        template = body.get("experimentTemplateId")
        if not isinstance(template, str) or not template:
            raise _Invalid("experimentTemplateId is required")
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise _Invalid("tags must be a map of strings")
        if template not in self.service.templates:
            return _error(
                "ResourceNotFoundException", f"Experiment template not found: {template}", 404
            )
        experiment = self.service.start(template, {str(k): str(v) for k, v in tags.items()})
        return _answer({"experiment": experiment.to_api()})

    def _experiment(self, call: AwsCall) -> Any:
        return self.service.experiments.get(self._last(call))

    def _GetExperiment(self, call: AwsCall) -> Response:
        experiment = self._experiment(call)
        if experiment is None:
            return _not_found(self._last(call))
        return _answer({"experiment": experiment.to_api()})

    def _StopExperiment(self, call: AwsCall) -> Response:
        experiment = self._experiment(call)
        if experiment is None:
            return _not_found(self._last(call))
        experiment.request_stop()
        return _answer({"experiment": experiment.to_api()})

    def _ListExperiments(self, call: AwsCall) -> Response:
        wanted = call.request.args.get("experimentTemplateId")
        items = [
            summary
            for summary in self.service.listing()
            if wanted is None or summary["experimentTemplateId"] == wanted
        ]
        items.sort(key=lambda item: item["creationTime"], reverse=True)
        return _answer(_page(items, call, "experiments"))


def _not_found(experiment_id: str) -> Response:
    return _error("ResourceNotFoundException", f"Experiment not found: {experiment_id}", 404)
