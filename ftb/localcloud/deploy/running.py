"""What the deploy engine applies templates to: the running cloud's parts it drives (the
runtime, the endpoint's clients, the API gateway, fault injection) and the state it owns
(the running template, what was provisioned, the outputs, the event source pollers).

`LocalCloud` (ftb/localcloud/local.py) builds the parts and hands them over; the start and
every hot reload then go through `apply_template` (apply.py), the only writer of the state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftb.localcloud.apigateway import ApiGateway, RestApi
from ftb.localcloud.event_sources import SqsPoller
from ftb.localcloud.faults import Faults
from ftb.localcloud.lambda_runtime import LambdaRuntime
from ftb.localcloud.provision import EnvOverride, LocalStack, ProvisionContext
from ftb.localcloud.template import Template


def _unchanged(text: str, apis: dict[str, RestApi]) -> str:
    return text


def _quiet(label: str, line: str) -> None:
    """No terminal: the pollers' attention lines go nowhere."""


@dataclass
class RunningStack:
    runtime: LambdaRuntime
    clients: Any  # ftb.localcloud.local.Clients: boto3 clients for the local endpoint
    gateway: ApiGateway
    region: str
    work_dir: Path  # where inline code, zipped assets and hot-reload copies are unpacked
    parameters: dict[str, str] = field(default_factory=dict)
    env_overrides: list[EnvOverride] = field(default_factory=list)
    # execute-api URLs -> the local API (a function of the provisioned REST APIs).
    localize: Callable[[str, dict[str, RestApi]], str] = _unchanged
    echo: Callable[[str, str], None] = _quiet  # the pollers' lines that need attention
    faults: Faults | None = None
    # Owned by the engine: None / empty until the first apply.
    template: Template | None = None
    context: ProvisionContext | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    pollers: list[SqsPoller] = field(default_factory=list)  # changed in place, never replaced

    @property
    def stack(self) -> LocalStack | None:
        return self.context.stack if self.context is not None else None

    def invoke(self, function: str, payload: bytes) -> Any:
        return self.runtime.invoke(function, payload)

    def short_name(self, function: str) -> str:
        """A function's name without the stack's prefix, as the terminal shows it."""
        prefix = f"{self.template.stack_name}-" if self.template else ""
        return function.removeprefix(prefix)
