"""What moto redoes for every request or execution, done once.

Backend lookup: moto's server dispatcher lists the moto package's directory (os.listdir and
an isdir per service, about 200) for every request, under the dispatcher's lock
(`list_of_moto_modules`): 3 % of the endpoint's samples, and every request waits its turn
for that lock (another 4.5 %). The directory does not change while the server runs.

Clients: moto's engine builds a new boto3 client for every Task state it runs (`boto_client_for`):
each `lambda:invoke` and `sqs:sendMessage` of every execution loads the service model and
builds a client, in the endpoint's process, under the GIL. Profiles of the local cloud under
load showed client creation as the largest single cost of an execution. Clients are
thread-safe and moto's engine ignores the credentials it passes (fixed "ak"/"sk"), so the
same client can serve every call that would have made an identical one.

Parse trees: each execution parses its definition again with the ANTLR grammar (8 % of the
endpoint's samples at 300 tasks). The tree is only read afterwards, so it is kept per
definition text; the evaluation components are still built from it afresh for each
execution (the Preprocessor's output carries per-execution state, the tree does not).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from typing import Any, Protocol

from botocore.config import Config

from ftb.localcloud.moto_internals import registry
from ftb.localcloud.moto_internals.deferred_packages import defer_engine_packages
from ftb.localcloud.moto_internals.session import make_client
from ftb.localcloud.moto_internals.wall import original, replace


class Transport(Protocol):
    """What answers a client's calls in process (the endpoint's in_process.py)."""

    def attach(self, client: Any) -> Any: ...


_ENGINE_PACKAGE = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
_lock = threading.Lock()
_clients: dict[tuple[str, str, str | None], Any] = {}
_installed = False
# The endpoint that answers the engine's calls in process (in_process.py), when one runs here.
_transport: Transport | None = None


def answer_engine_calls_with(transport: Transport | None) -> None:
    """Send the engine's calls through `transport` (None: over HTTP to MOTO_PORT)."""
    global _transport
    with _lock:
        _transport = transport
        _clients.clear()  # clients attached to an earlier endpoint must not serve this one


def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's `boto_client_for`, the same client settings, one client per key."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    endpoint = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
    key = (region, service, endpoint)
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            kwargs = {} if endpoint is None else {"endpoint_url": endpoint}
            client = make_client(
                service,
                region_name=region,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=99999999,
                    read_timeout=99999999,
                    # Every running execution may call at once: no "pool is full" churn.
                    max_pool_connections=256,
                ),
                **kwargs,
            )
            if _transport is not None and endpoint is not None:
                _transport.attach(client)
            _clients[key] = client
    return client


_trees: dict[str, Any] = {}


def cached_entrypoint(worker: Any) -> Any:
    """ExecutionWorker._get_evaluation_entrypoint, with the parse tree kept per definition."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    definition = worker._evaluation_details.state_machine_details.definition
    tree = _trees.get(definition)
    if tree is None:
        _, tree = AmazonStateLanguageParser.parse(definition)
        with _lock:
            if len(_trees) > 256:  # definitions change during development: stay bounded
                _trees.clear()
            _trees[definition] = tree
    return Preprocessor().visit(tree)


def install_engine_caches() -> None:
    """Replace `boto_client_for` in every engine module that imported it, the execution
    worker's parse, and moto's directory listing (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
    from moto import backends

    defer_engine_packages()  # before the engine imports a submodule of one
    modules = tuple(original(backends, "list_of_moto_modules")())
    replace(registry.MOTO_MODULES, lambda: modules)
    replace(registry.EVALUATION_ENTRYPOINT, cached_entrypoint)

    target = registry.BOTO_CLIENT_FOR
    found = original(target.owner(), target.attribute)
    package = importlib.import_module(_ENGINE_PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, f"{_ENGINE_PACKAGE}."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional service's dependency: that service never runs here
            continue
        if module.__dict__.get(target.attribute) is found:
            replace(target, cached_client_for, owner=module)
    replace(target, cached_client_for)
    with _lock:
        _installed = True
