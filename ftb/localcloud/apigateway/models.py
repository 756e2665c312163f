"""A REST API as the template defines it: resources, methods, validators, models, stages,
gateway responses; and API Gateway's routing of a path to a resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass
class ApiResource:
    id: str
    parent_id: str | None
    path_part: str


@dataclass(frozen=True)
class MockIntegration:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: dict[str, str]
    templates: dict[str, str]


@dataclass
class ApiMethod:
    http_method: str
    resource_id: str
    function: str | None  # name or ARN of the AWS_PROXY function
    mock: MockIntegration | None
    validator_id: str | None
    request_models: dict[str, str]  # content type (lowercase) -> model name
    request_parameters: dict[str, bool]  # method.request.querystring.x -> required
    authorization: str = "NONE"
    api_key_required: bool = False


@dataclass
class RestApi:
    id: str
    name: str
    logical_id: str
    root_id: str
    binary_media_types: list[str] = field(default_factory=list)
    resources: dict[str, ApiResource] = field(default_factory=dict)
    methods: dict[tuple[str, str], ApiMethod] = field(default_factory=dict)
    validators: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # id -> body, params
    models: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> stage variables
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)

    def path_of(self, resource_id: str) -> str:
        parts = []
        node = self.resources.get(resource_id)
        while node is not None and node.parent_id is not None:
            parts.append(node.path_part)
            node = self.resources.get(node.parent_id)
        return "/" + "/".join(reversed(parts))

    def match(self, path: str) -> tuple[ApiResource, dict[str, str]] | None:
        """API Gateway's routing: a literal segment beats {param}, which beats {proxy+}."""
        segments = [unquote(part) for part in path.strip("/").split("/") if part != ""]
        root = self.resources[self.root_id]
        return self._match(root, segments, {})

    def _match(
        self, node: ApiResource, segments: list[str], params: dict[str, str]
    ) -> tuple[ApiResource, dict[str, str]] | None:
        if not segments:
            return node, params
        children = [child for child in self.resources.values() if child.parent_id == node.id]
        head, rest = segments[0], segments[1:]
        for child in sorted(children, key=_route_rank):
            part = child.path_part
            if part.startswith("{") and part.endswith("+}"):
                return child, {**params, part[1:-2]: "/".join(segments)}
            if part.startswith("{") and part.endswith("}"):
                found = self._match(child, rest, {**params, part[1:-1]: head})
            elif part == head:
                found = self._match(child, rest, params)
            else:
                continue
            if found is not None:
                return found
        return None

    def method(self, resource_id: str, http_method: str) -> ApiMethod | None:
        return self.methods.get((resource_id, http_method)) or self.methods.get(
            (resource_id, "ANY")
        )


def _route_rank(resource: ApiResource) -> int:
    part = resource.path_part
    if part.endswith("+}"):
        return 2
    return 1 if part.startswith("{") else 0


def offered_routes(api: RestApi) -> list[str]:
    """`METHOD /stage/path` for every method of every stage, as a client would call it."""
    return [
        f"{method.http_method} /{stage}{api.path_of(method.resource_id).rstrip('/') or ''}"
        for stage in sorted(api.stages)
        for method in sorted(
            api.methods.values(), key=lambda m: (api.path_of(m.resource_id), m.http_method)
        )
    ]
