"""Refuse what is not there: an operation of an emulated service that nobody implements gets
AWS's error for an unknown operation, never moto's guess.

Consulted after every service handler, before moto. An operation passes when a registered
handler of its service claims it (`operations`, the set of operation names it answers) or when
moto implements it: its response class has the operation's method (moto dispatches JSON and
query calls by name). Operations known to be silently wrong in moto are refused even so
(`REFUSED_ANYWAY`), and moto's Lambda and CloudFormation are never consulted (their
`moto_consulted=False` in ftb/localcloud/services). Nothing else passes: a handler declares
it, or moto implements it, or it is refused.

The shapes (AWS's common errors): JSON protocol 400 `UnknownOperationException`; query
protocol 400 `InvalidAction`; Lambda's REST API 404 `UnknownOperationException`.
A REST request is named by botocore's service model (method and request URI of each
operation), so the refusal can say which operation it refuses.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable

from werkzeug.wrappers import Response

from ftb.localcloud import registry
from ftb.localcloud.endpoint.calls import AwsCall, json_error, query_error, rest_json_error
from ftb.localcloud.moto_internals.dispatch import method_name, public_methods


# Signing name -> the moto response classes (module, class) that dispatch its operations by
# name; which services moto never answers; which are REST: as each service declares itself
# (ftb/localcloud/services, through the registry).
def emulated_services() -> dict[str, tuple[tuple[str, str], ...]]:
    return registry.moto_responses()


# moto answers these with a 2xx that AWS would not give (see docs/local-cloud.md): refused
# until a handler answers them faithfully.
REFUSED_ANYWAY: dict[str, frozenset[str]] = {
    # moto's fixed 20,000/10,000 capacity units are not the account's quotas AWS reports;
    # its DescribeEndpoints names dynamodb.<region>.amazonaws.com, which would send a client
    # using endpoint discovery out of the local cloud.
    "dynamodb": frozenset({"DescribeLimits", "DescribeEndpoints"}),
}
# Services whose moto backend is never consulted (`moto_consulted=False`), so only what a
# handler declares is answered: moto's would answer about an empty account. Its CloudFormation
# knows nothing of the stack the local cloud provisioned; its Lambda holds none of the
# runtime's functions (TagResource, AddPermission, GetAlias... answer "Function not found" for
# a function ListFunctions lists), nor the template's layers (ListLayers: []), and a mapping
# it created would never poll.

Claims = Callable[[str], Iterable[str]]


@functools.cache
def moto_methods(service: str) -> frozenset[str]:
    """The operation methods moto dispatches for the service (snake_case names)."""
    methods: set[str] = set()
    for module, response_class in emulated_services()[service]:
        methods |= public_methods(f"{module}.responses", response_class)
    return frozenset(methods)


_Route = tuple[str, re.Pattern[str], frozenset[str], str]
_routes: dict[str, tuple[_Route, ...]] = {}
_routes_lock = threading.Lock()


def _rest_routes(service: str) -> tuple[_Route, ...]:
    """(method, path pattern, query keys required, operation) of each operation of a REST
    service, from botocore's model; the most specific first (literal segments and required
    query keys before parameters: `/functions/{name}/url` before `/functions/{name}`).
    Built once under a lock: the first calls arrive together (every execution's first
    function invocation), and each would load the service model under the GIL again."""
    routes = _routes.get(service)
    if routes is None:
        with _routes_lock:
            routes = _routes.get(service)
            if routes is None:
                routes = _routes[service] = _build_rest_routes(service)
    return routes


def _build_rest_routes(service: str) -> tuple[_Route, ...]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri, _, query = http.get("requestUri", "/").partition("?")
        pattern = re.sub(r"\\\{[^}]+?\\\+\\\}", ".+", re.escape(uri))
        pattern = re.sub(r"\\\{[^}]+?\\\}", "[^/]+", pattern)
        keys = frozenset(part.split("=")[0] for part in query.split("&") if part)
        routes.append((http.get("method", "GET"), re.compile(f"^{pattern}/?$"), keys, name))
    routes.sort(key=lambda route: (-len(route[2]), -len(route[1].pattern.replace("[^/]+", ""))))
    return tuple(routes)


def rest_operation(service: str, method: str, path: str, query_keys: Iterable[str]) -> str | None:
    """The operation a REST request is, by botocore's model of the service."""
    present = set(query_keys)
    for route_method, pattern, keys, name in _rest_routes(service):
        if route_method == method and keys <= present and pattern.match(path):
            return name
    return None


def implemented_by_moto(service: str, operation: str) -> bool:
    if service in registry.moto_not_consulted() or operation in REFUSED_ANYWAY.get(
        service, frozenset()
    ):
        return False
    return method_name(operation) in moto_methods(service)


def answered(service: str, operation: str, claimed: Iterable[str]) -> bool:
    """The rule: a handler of the service declares the operation, or moto implements it."""
    return operation in set(claimed) or implemented_by_moto(service, operation)


def name_rest_call(call: AwsCall) -> None:
    """Name a REST call of a REST service by botocore's model (JSON and query calls carry
    their name), so handlers and the refusals route by the operation, not by path alone."""
    if (
        call.protocol == "rest"
        and call.operation is None
        and call.service in registry.rest_services()
    ):
        request = call.request
        call.operation = rest_operation(
            call.service, request.method, request.path, request.args.keys()
        )


def refusal(call: AwsCall, operation: str) -> Response:
    message = (
        f"{operation} is not implemented by the local endpoint ({call.service}); "
        "see docs/local-cloud.md for the operations it emulates"
    )
    if call.protocol == "json":
        return json_error("UnknownOperationException", message)
    if call.protocol == "query":
        return query_error("InvalidAction", message)
    return rest_json_error("UnknownOperationException", message, 404)


class Refusals:
    """The last handler of every emulated service: refuses what neither a handler nor moto
    implements. `claims(service)` lists the operations the service's handlers answer."""

    def __init__(self, claims: Claims) -> None:
        self.claims = claims

    def handle(self, call: AwsCall) -> Response | None:
        service = call.service or ""
        if service not in emulated_services() or call.request.method == "OPTIONS":
            return None  # another service, or a browser console's CORS preflight: moto answers
        if service in registry.rest_services():
            if call.protocol != "rest":
                return None
            name_rest_call(call)
            if call.operation is None:  # a path no operation has: AWS's unknown operation too
                return refusal(call, f"{call.request.method} {call.request.path}")
        operation = call.operation
        if not operation or (call.protocol == "rest" and service not in registry.rest_services()):
            return None  # not an API call moto would dispatch by name: moto answers it
        if answered(service, operation, self.claims(service)):
            return None
        return refusal(call, operation)
