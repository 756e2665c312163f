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
from typing import Any

import boto3
from botocore.config import Config

from ftb.localcloud.endpoint.lazy_moto_batch import defer_moto_batch

_ENGINE_PACKAGE = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
_lock = threading.Lock()
_clients: dict[tuple[str, str, str | None], Any] = {}
_installed = False


def _cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
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
            client = boto3.session.Session().client(  # type: ignore[call-overload]
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
            _clients[key] = client
    return client


_trees: dict[str, Any] = {}


def _cached_entrypoint(worker: Any) -> Any:
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
    """Replace `boto_client_for` in every engine module that imported it, and the
    execution worker's parse (idempotent)."""
    global _installed
    if _installed:
        return
    defer_moto_batch()  # before the engine's service factory imports its Batch integration
    from moto import backends
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    ExecutionWorker._get_evaluation_entrypoint = _cached_entrypoint  # type: ignore[method-assign,assignment]
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    package = importlib.import_module(_ENGINE_PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, f"{_ENGINE_PACKAGE}."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional service's dependency: that service never runs here
            continue
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = _cached_client_for  # type: ignore[attr-defined]
    boto_client.boto_client_for = _cached_client_for  # type: ignore[attr-defined]
    _installed = True
