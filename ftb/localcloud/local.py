"""`ftb local`: the whole stack on this machine, from its synthesized template.

Start-up: synthesize (cached) -> bind the API port -> start the AWS endpoint and the Lambda
runtime -> apply the template to the empty cloud through the deploy engine (ftb/localcloud/
deploy, the one hot reload uses): provision, restore the saved state, start the event
source pollers, install the routes -> start the API -> write the
state file (.ftb/local.json) that `ftb outputs` and the operator commands read -> print the
endpoints, the stack outputs with their local values, and a curl to try.
Stop (Ctrl-C, SIGTERM, or `stop()`): intake closes, in-flight work drains (bounded), the
state is saved under `.ftb/` (ftb/localcloud/persistence), then the reverse of the start; every
worker process ends, ports are freed, the state file is removed. The next start restores the
saved state unless `fresh`; a checkpoint every few seconds covers a hard kill.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from botocore.config import Config

from ftb import startup_gc, statefile
from ftb.localcloud import api_access, companions, exposure, persistence
from ftb.localcloud import synth as synthesis
from ftb.localcloud.apigateway import ApiGateway, ApiServer, RestApi
from ftb.localcloud.apigateway.intake import IntakeGate
from ftb.localcloud.cloudwatch import NOT_EMULATED as CLOUDWATCH_NOT_EMULATED
from ftb.localcloud.cloudwatch import LocalCloudWatch, transition_line
from ftb.localcloud.control_plane import register_control_plane
from ftb.localcloud.deploy import Outcome, RunningStack, apply_template
from ftb.localcloud.endpoint import AwsEndpoint, display_host
from ftb.localcloud.endpoint.in_process import InProcessTransport
from ftb.localcloud.event_sources import SqsPoller
from ftb.localcloud.faults import FaultConfig, Faults
from ftb.localcloud.fis import FisApi, FisInjector, FisService, chain_faults
from ftb.localcloud.fis.wiring import alarm_reader, function_targets
from ftb.localcloud.function_log import FunctionLog, log_file_path
from ftb.localcloud.lambda_api import LambdaControlApi, register_function_api
from ftb.localcloud.lambda_runtime import LambdaRuntime
from ftb.localcloud.live_view import LiveView, Sources, dead_letter_queue_urls
from ftb.localcloud.logs_filter_patterns import FilterPatternGuard
from ftb.localcloud.logs_insights import LogsInsightsApi, QueryDefinitionsApi
from ftb.localcloud.moto_internals.session import make_client
from ftb.localcloud.provision import EnvOverride, LocalStack, ProvisionContext, ProvisionError
from ftb.localcloud.stepfunctions_logs import ExecutionLogShipper
from ftb.localcloud.stepfunctions_reads import StepFunctionsReads
from ftb.localcloud.template import ACCOUNT_ID, Resolver, Template, TemplateError, load_template
from ftb.localcloud.terminal import Mode, Terminal

DEFAULT_API_PORT = 3000
DEFAULT_ENDPOINT_PORT = 4566
DEFAULT_REGION = "us-east-1"
# What the banner's AWS CLI line sets, so that it works in a shell without AWS configuration.
# The AWS CLI line of the banner: the endpoint takes any credentials, but the same ones as the
# local API's signers keep one pair to remember.
CLI_CREDENTIALS = (
    f"AWS_ACCESS_KEY_ID={api_access.LOCAL_CREDENTIALS.access_key_id} "
    f"AWS_SECRET_ACCESS_KEY={api_access.LOCAL_CREDENTIALS.secret_access_key}"
)
# Workers per function without reserved concurrency: a limit of this machine, not of AWS.
MAX_CONCURRENCY_DEFAULT = 4

Say = Callable[[str], None]


class LocalCloudError(Exception):
    """The local cloud cannot start (a port in use, a broken template...): the message says why."""


@dataclass
class LocalOptions:
    root: Path
    app: str = synthesis.DEFAULT_APP
    template: Path | None = None  # a synthesized template: no synth
    stack: str | None = None
    host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    endpoint_port: int = DEFAULT_ENDPOINT_PORT
    region: str = DEFAULT_REGION
    env_overrides: list[EnvOverride] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    state_file: Path | None = None
    resynth: bool = False
    output: Mode = Mode.LIVE  # the terminal: live view, --verbose or --quiet (terminal.py)
    faults: FaultConfig | None = None  # fault injection (ftb/localcloud/faults): off by default
    watch: bool = False  # hot reload (ftb/localcloud/hot_reload): `ftb local` turns it on
    context: dict[str, str] = field(default_factory=dict)  # CDK context (-c key=value)
    fresh: bool = False  # start empty: the saved state is set aside, not restored
    checkpoint_seconds: float = persistence.DEFAULT_CHECKPOINT_SECONDS  # 0: no checkpoints
    drain_seconds: float = persistence.DEFAULT_DRAIN_SECONDS  # a graceful stop's bound
    alarm_period_scale: float = 1.0  # CloudWatch alarms in scaled time (cloudwatch/alarms.py)

    @property
    def state_path(self) -> Path:
        return self.state_file or statefile.state_file_path(start=self.root)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class Clients:
    """boto3 clients for the local endpoint, with fake credentials: nothing can reach AWS.
    With the endpoint's in-process transport, they call it without HTTP (in_process.py)."""

    def __init__(
        self, endpoint_url: str, region: str, transport: InProcessTransport | None = None
    ) -> None:
        config = Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=64,
        )

        def client(service: str) -> Any:
            # From the session moto lists regions with: its files are parsed once.
            made = make_client(
                service,
                endpoint_url=endpoint_url,
                config=config,
                region_name=region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                aws_session_token="testing",
            )
            return made if transport is None else transport.attach(made)

        self.sqs = client("sqs")
        self.dynamodb = client("dynamodb")
        self.stepfunctions = client("stepfunctions")
        self.logs = client("logs")
        self.cloudwatch = client("cloudwatch")


class LocalCloud:
    """The running local cloud. `start()` returns when it is ready; `stop()` undoes it all."""

    def __init__(self, options: LocalOptions, say: Say | None = None) -> None:
        self.options = options
        self.say: Say = say or (lambda line: print(line, flush=True))
        self._loaded: Template | None = None  # until the deploy engine runs it
        self.running: RunningStack | None = None  # what the deploy engine applies to
        self.synth_cached: bool | None = None
        self._synth_hold: IO[str] | None = None
        self.synth_seconds = 0.0
        self.ready_seconds = 0.0
        self.runtime: LambdaRuntime | None = None
        self.endpoint: AwsEndpoint | None = None
        self.functions: LambdaControlApi | None = None  # Lambda's API on the endpoint
        self.api: ApiServer | None = None
        self.faults: Faults | None = None
        self.cloudwatch: LocalCloudWatch | None = None
        self.fis: FisService | None = None  # FIS experiments (ftb/localcloud/fis)
        self.execution_logs: ExecutionLogShipper | None = None
        self.terminal = Terminal(options.output, FunctionLog(log_file_path(options.state_path)))
        self.clients: Clients | None = None
        self._stopped = False
        self._work_dir: tempfile.TemporaryDirectory[str] | None = None
        self.intake: IntakeGate | None = None
        self.keeper = persistence.StateKeeper(
            persistence.state_directory(options.state_path),
            options.region,
            say=lambda line: self.say(f"ftb local: {line}"),
            checkpoint_seconds=options.checkpoint_seconds,
            # A failed checkpoint needs attention in every mode, and goes to the cloud's log.
            warn=lambda line: self.terminal.attention("ftb local", line),
        )
        self.hurry = threading.Event()  # a second Ctrl-C: stop draining, save now
        # Companion servers' URLs by output (companions.py), published in the state file.
        self.companion_outputs: dict[str, str] = {}
        self.companion_lines: list[str] = []
        self.restored: persistence.RestoreSummary | None = None  # what the start restored

    # -- start ------------------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        options = self.options
        running = statefile.running(options.state_path)
        if running is not None:
            raise LocalCloudError(
                f"the local cloud is already running (pid {running.pid}, "
                f"{options.state_path}); stop it first, or pass another --state-file"
            )
        try:
            self.keeper.load(options.fresh)
        except persistence.SnapshotError as error:
            raise LocalCloudError(str(error)) from None
        self._loaded = self._template()
        endpoint_port = options.endpoint_port or free_port(options.host)
        if not _port_free(options.host, endpoint_port):
            raise LocalCloudError(
                f"port {endpoint_port} (AWS endpoint) is in use: stop whatever holds it "
                "(another `ftb local`, LocalStack?) or pass --endpoint-port"
            )
        try:
            self._start(endpoint_port)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started

    def _template(self) -> Template:
        options = self.options
        if options.template is not None:
            path = options.template
            if path.is_dir():
                path, _ = synthesis.find_stack(path, options.stack)
            self.synth_cached = None
            return load_template(path, options.stack)
        result = synthesis.synth(
            options.root,
            options.app,
            stack_name=options.stack,
            force=options.resynth,
            say=self.say,
            context=options.context,
        )
        self.synth_cached = result.cached
        self.synth_seconds = result.seconds
        self._synth_hold = result.hold  # released when this process ends
        return load_template(result.template, result.stack_name)

    def _start(self, endpoint_port: int) -> None:
        options = self.options
        assert self._loaded is not None
        try:
            gateway = ApiGateway(self._runtime_invoke, echo=self._api_echo)
            self.intake = IntakeGate(gateway)
            self.api = ApiServer(self.intake, options.host, options.api_port)  # type: ignore[arg-type]
        except OSError as error:
            raise LocalCloudError(
                f"port {options.api_port} (API) is not available ({error.strerror}): "
                "stop whatever holds it or pass --port"
            ) from None
        endpoint_url = f"http://{_display_host(options.host)}:{endpoint_port}"
        self._work_dir = tempfile.TemporaryDirectory(prefix="ftb-local-")
        if options.faults is not None and options.faults.enabled:
            self.faults = Faults(options.faults, options.region, Path(self._work_dir.name))
        # FIS (ftb/localcloud/fis): its injector sits at the runtime's fault hook, after
        # `--faults`; its API on the endpoint.
        self.fis = FisService(
            options.region,
            ACCOUNT_ID,
            FisInjector(),
            say=lambda line: self.terminal.attention("fis", line),
        )
        self.runtime = LambdaRuntime(
            endpoint_url,
            options.region,
            max_concurrency_default=MAX_CONCURRENCY_DEFAULT,
            echo=self._function_echo,
            faults=chain_faults(self.faults, self.fis.injector),
        )
        self.endpoint = AwsEndpoint(self.runtime, options.host, endpoint_port, faults=self.faults)
        self.functions = register_function_api(self.endpoint, self.runtime)
        # Logs Insights runs here, over moto's log events (moto's own ignores most queries).
        self.endpoint.register("logs", LogsInsightsApi())
        self.endpoint.register("logs", QueryDefinitionsApi())  # saved queries: moto has none
        self.endpoint.register("logs", FilterPatternGuard())  # what moto's filter gets wrong
        self.endpoint.register("states", StepFunctionsReads())
        # CloudWatch: metrics collected from the runtime and sampled, alarms evaluated.
        cloudwatch = self.cloudwatch = LocalCloudWatch(
            options.region, ACCOUNT_ID, options.alarm_period_scale
        )
        self.endpoint.register("monitoring", cloudwatch.api)
        self.runtime.metrics = cloudwatch.lambda_metrics
        gateway.metrics = cloudwatch.api_metrics.request
        cloudwatch.on_transition(self._alarm_transition)
        self.endpoint.register("fis", FisApi(self.fis))
        self.endpoint.gate = self.keeper.gate
        self.endpoint.start()
        clients = self.clients = Clients(self.endpoint.url, options.region, self.endpoint.transport)
        self.running = RunningStack(
            runtime=self.runtime,
            clients=clients,
            gateway=gateway,
            region=options.region,
            work_dir=Path(self._work_dir.name),
            parameters=options.parameters,
            env_overrides=list(options.env_overrides),
            localize=self.localize,
            echo=self.terminal.attention,
            faults=self.faults,
        )
        created_at = datetime.now(UTC)
        # The empty cloud gets the whole template, the way a hot reload gets a diff.
        apply_template(self.running, self._loaded, before_traffic=self._restore)
        stack, template, ctx = self.stack, self.template, self.running.context
        assert stack is not None and template is not None and ctx is not None
        gateway.set_access(api_access.LOCAL_CREDENTIALS, options.region, stack.usage_plans)
        self.api.start()
        register_control_plane(
            self.endpoint,
            self.functions,
            template,
            ctx.resolver,
            stack,
            self.outputs,
            self.running.pollers,
            created_at,
        )
        cloudwatch.start(  # after provisioning: it samples the stack's queues and executions
            lambda: [(q.name, q.arn) for q in self.stack.queues.values()] if self.stack else [],
            lambda: list(self.stack.state_machines.values()) if self.stack else [],
        )
        self.keeper.start_checkpoints()
        statefile.write(self.options.state_path, self.state())

    def _restore(self, stack: LocalStack) -> None:
        """Before the API and the pollers: nothing runs on a half-restored state."""
        assert self.runtime is not None and self.clients is not None
        assert self.running is not None and self.running.context is not None
        self.bind_fis(self.running.context.resolver, stack)
        try:
            self.restored = self.keeper.restore(self.runtime, self.faults)
        except persistence.SnapshotError as error:
            raise LocalCloudError(str(error)) from None
        # Step Functions' execution logs (LoggingConfiguration), after the restore: what had
        # ended before it was shipped then.
        self.execution_logs = ExecutionLogShipper(
            self.clients.stepfunctions,
            self.clients.logs,
            lambda: list(self.stack.state_machines.values()) if self.stack else [],
            say=lambda line: self.terminal.attention("states", line),
        )
        self.execution_logs.seed()
        self.execution_logs.start()

    def bind_fis(self, resolver: Resolver, stack: LocalStack) -> None:
        """The stack's experiment templates and functions to FIS (at start and hot reload);
        its stop conditions read alarms through CloudWatch on this endpoint."""
        assert self.fis is not None and self.endpoint is not None
        endpoint_url, region = self.endpoint.url, self.options.region
        self.fis.bind(
            list(stack.experiment_templates),
            lambda: function_targets(resolver, stack.functions),
            alarm_reader(
                lambda: make_client(
                    "cloudwatch",
                    endpoint_url=endpoint_url,
                    region_name=region,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                )
            ),
        )

    def apply(self, template: Template) -> Outcome:
        """A new template (hot reload): its difference applied through the same engine as the
        start; the state file follows (ReloadError, ProvisionError, TemplateError: nothing
        was applied)."""
        assert self.running is not None
        outcome = apply_template(self.running, template)
        context = self.running.context
        if context is not None:  # FIS: the reloaded experiment templates and functions
            self.bind_fis(context.resolver, context.stack)
        self.keeper.template_changed()  # what was applied is the template's, not a hand's
        statefile.write(self.options.state_path, self.state())
        return outcome

    # -- what runs (the deploy engine's state) -------------------------------------------

    @property
    def template(self) -> Template | None:
        if self.running is not None and self.running.template is not None:
            return self.running.template
        return self._loaded

    @property
    def stack(self) -> LocalStack | None:
        return self.running.stack if self.running is not None else None

    @property
    def provision_context(self) -> ProvisionContext | None:
        return self.running.context if self.running is not None else None

    @property
    def outputs(self) -> dict[str, Any]:
        return self.running.outputs if self.running is not None else {}

    @property
    def pollers(self) -> list[SqsPoller]:
        return self.running.pollers if self.running is not None else []

    def _runtime_invoke(self, function: str, payload: bytes) -> Any:
        assert self.runtime is not None
        return self.runtime.invoke(function, payload)

    # -- outputs ------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        assert self.api is not None
        return f"http://{_display_host(self.options.host)}:{self.api.port}"

    def localize(self, text: str, apis: dict[str, RestApi]) -> str:
        """`https://<api>.execute-api.<region>.amazonaws.com/<stage>` -> the local API."""
        first = min(apis.values(), key=lambda api: api.logical_id).id if apis else None

        def replace(match: re.Match[str]) -> str:
            api_id, stage = match.group(1), match.group(2)
            if api_id == first:
                return f"{self.api_url}/{stage}"
            return f"{self.api_url}/restapis/{api_id}/{stage}/_user_request_"

        return _EXECUTE_API.sub(replace, text)

    def state(self) -> statefile.LocalCloudState:
        assert self.stack is not None and self.endpoint is not None and self.template is not None
        functions = {lid: spec.name for lid, spec in self.stack.functions.items()}
        log_groups = sorted(
            {spec.log_group_name for spec in self.stack.functions.values()}
            | set(self.stack.log_groups.values())
        )
        return statefile.LocalCloudState(
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            stack_name=self.template.stack_name,
            region=self.options.region,
            endpoint_url=self.endpoint.url,
            api_url=self.api_url,
            template=str(self.template.path),
            outputs={name: str(value) for name, value in self.outputs.items()},
            functions=functions,
            log_groups=log_groups,
            queues={lid: queue.url for lid, queue in self.stack.queues.items()},
            state_machines=dict(self.stack.state_machines),
            tables=dict(self.stack.tables),
            faults_url=f"{self.endpoint.url}/_ftb/faults" if self.faults else None,
            credentials=statefile.LocalCredentials(
                access_key_id=api_access.LOCAL_CREDENTIALS.access_key_id,
                secret_access_key=api_access.LOCAL_CREDENTIALS.secret_access_key,
            ),
            api_keys=self.stack.usage_plans.values_by_id(),
            companions=dict(self.companion_outputs),
        )

    # -- terminal -----------------------------------------------------------------------

    def _function_echo(self, function: str, line: str) -> None:
        prefix = f"{self.template.stack_name}-" if self.template else ""
        self.terminal.function_line(function.removeprefix(prefix), line)

    def _alarm_transition(self, alarm: Any, old: str, new: str) -> None:
        """One line per transition; a new alarm's first OK is not news (it stays in the
        alarm's history, as on AWS)."""
        if not (old == "INSUFFICIENT_DATA" and new == "OK"):
            self.terminal.alarm_line(transition_line(alarm, old, new))

    def _api_echo(self, line: str) -> None:
        self.terminal.api_line(line)

    def live_view(self) -> LiveView:
        """The compact view of what the stack is doing (live_view.py), on its own clients."""
        assert self.stack is not None and self.endpoint is not None and self.template is not None
        clients = Clients(self.endpoint.url, self.options.region, self.endpoint.transport)
        dead_letter_urls = dead_letter_queue_urls(
            clients.sqs, [queue.url for queue in self.stack.queues.values()]
        )
        consumers = [p for p in self.pollers if p.mapping.queue.url in dead_letter_urls]
        sources = Sources(
            stepfunctions=clients.stepfunctions,
            sqs=clients.sqs,
            state_machine_arns=sorted(self.stack.state_machines.values()),
            dead_letter_queue_urls=dead_letter_urls,
            delivered_from_dead_letter_queues=lambda: sum(p.delivered for p in consumers),
            checkpoint=self._checkpoint_line,
            alarms=clients.cloudwatch,
            restored_executions=self.restored.executions if self.restored else 0,
        )
        return LiveView(
            self.template.stack_name, sources, self.terminal.counters, self.terminal.console
        )

    def _exposure_lines(self) -> list[str]:
        assert self.endpoint is not None
        line = exposure.warning(self.options.host, self.endpoint.url)
        return [] if line is None else ["", line]

    def _checkpoint_line(self) -> tuple[str, bool]:
        health = self.keeper.checkpoint_health()
        return health.line(), health.failure is not None

    def banner(self) -> str:
        assert self.stack is not None and self.template is not None and self.endpoint is not None
        stack = self.stack
        if self.synth_cached is None:
            synth = f"template {self.template.path}"
        else:
            synth = (
                "synth cached"
                if self.synth_cached
                else f"synthesized in {self.synth_seconds:.1f} s"
            )
        lines = [
            "",
            f"ftb local: {self.template.stack_name} is running "
            f"(ready in {self.ready_seconds:.1f} s; {synth})",
            *self._exposure_lines(),
            "",
            f"  API           {self.api_url}/<stage>/...  (API Gateway REST, Lambda proxy)",
            f"  AWS endpoint  {self.endpoint.url}  (SQS, Step Functions, DynamoDB, "
            "CloudWatch Logs, CloudWatch metrics and alarms, Lambda, FIS experiments, the "
            "stack in CloudFormation; any credentials)",
            f"  region        {self.options.region}",
            *self.companion_lines,  # e.g. the task console (companions.py)
            *api_access.banner_lines(
                list(stack.rest_apis.values()), self.options.region, stack.usage_plans
            ),
            f"  state file    {self.options.state_path}  (`ftb outputs` prints the outputs)",
            f"  function log  {self.terminal.log.path if self.terminal.log else '-'}  "
            "(also in the log groups; --verbose echoes it here)",
            "",
            "Stack outputs (local values):",
        ]
        width = max((len(name) for name in self.outputs), default=0)
        lines += [f"  {name:<{width}}  {value}" for name, value in self.outputs.items()]
        lines += ["", "Functions:"]
        for spec in sorted(stack.functions.values(), key=lambda spec: spec.name):
            concurrency = (
                f", reserved concurrency {spec.reserved_concurrency}"
                if spec.reserved_concurrency is not None
                else ""
            )
            lines.append(
                f"  {spec.name}  ({spec.handler}, timeout {spec.timeout_seconds:g} s, "
                f"{spec.memory_mb} MB{concurrency}) -> {spec.log_group_name}"
            )
        if self.options.env_overrides:
            overrides = ", ".join(
                f"{o.target}:{o.key}={o.value}" for o in self.options.env_overrides
            )
            lines.append(f"  environment overrides (--set-env): {overrides}")
        if self.pollers:
            lines += ["", "Event source mappings:"]
            for poller in self.pollers:
                mapping = poller.mapping
                extras = [f"batch {mapping.batch_size}"] + ([] if mapping.enabled else ["disabled"])
                if mapping.batching_window_seconds:
                    extras.append(f"window {mapping.batching_window_seconds} s")
                if mapping.report_batch_item_failures:
                    extras.append("partial batch responses")
                extras.append(f"{poller.concurrency} concurrent batches")
                lines.append(f"  {poller.label}  ({', '.join(extras)})")
        if stack.not_emulated:
            lines += ["", "Not emulated (in the template, ignored locally):"]
            for kind, ids in sorted(stack.not_emulated.items()):
                lines.append(f"  {kind} ({len(ids)})")
        lines += ["", *self._alarm_lines()]
        if self.fis is not None and self.fis.templates:
            lines += ["", "FIS experiment templates (`ftb chaos list`, `ftb chaos run NAME`):"]
            for template in sorted(self.fis.templates.values(), key=lambda t: t.name):
                lines.append(f"  {template.name}  {template.id}  {template.description}")
        if self.faults is not None:
            lines += ["", f"Fault injection ON (counters: GET {self.endpoint.url}/_ftb/faults):"]
            lines += [f"  {line}" for line in self.faults.config.describe(self.options.region)]
        lines += ["", *self._saved_state_lines()]
        if stack.warnings:
            lines += ["", "Warnings:"]
            lines += [f"  {warning}" for warning in stack.warnings]
        lines += ["", *self.try_it(), "", "Ctrl-C stops everything.", ""]
        return "\n".join(lines)

    def _alarm_lines(self) -> list[str]:
        assert self.cloudwatch is not None
        alarms = self.cloudwatch.alarms.all()
        scale = self.cloudwatch.scale
        clock = "real time" if scale == 1 else f"scaled time: a period lasts x{scale:g}"
        return [
            f"CloudWatch alarms: {len(alarms)} evaluated every "
            f"{self.cloudwatch.tick_seconds:g} s ({clock}; --alarm-period-scale)",
            f"  not emulated: {CLOUDWATCH_NOT_EMULATED}",
        ]

    def _saved_state_lines(self) -> list[str]:
        keeper = self.keeper
        directory = keeper.store.directory
        lines = ["Saved state:"]
        if keeper.summary is not None:
            lines += [f"  {line}" for line in keeper.summary.lines()]
        elif keeper.set_aside is not None:
            lines.append(f"  --fresh: started empty; the previous state is in {keeper.set_aside}")
        else:
            lines.append("  none found: started empty")
        every = (
            f"every {self.options.checkpoint_seconds:g} s"
            if self.options.checkpoint_seconds > 0
            else "at the stop only"
        )
        lines.append(f"  saved to {directory} {every} and at Ctrl-C; `--fresh` starts empty")
        return lines

    def try_it(self) -> list[str]:
        """A ready-to-paste curl (and how to follow the task), from the stack's outputs."""
        tasks = self.outputs.get("TasksEndpoint")
        if not isinstance(tasks, str):
            return []
        endpoint = self.endpoint.url if self.endpoint else ""
        body = '{"taskId": "demo-1", "payload": {"message": "hello"}}'
        apis = self.stack.rest_apis if self.stack else {}
        first = min(apis.values(), key=lambda api: api.logical_id) if apis else None
        usage_plans = self.stack.usage_plans if self.stack else None
        auth = api_access.curl_auth(first, self.options.region, usage_plans) if usage_plans else ""
        auth = f" {auth}" if auth else ""
        lines = [
            "Try it:",
            f"  curl -sS{auth} -X POST {tasks} -H 'Content-Type: application/json' -d '{body}'",
            f"  curl -sS{auth} {tasks.rstrip('/')}/demo-1",
        ]
        machine = self.outputs.get("StateMachineArn")
        if isinstance(machine, str) and ":stateMachine:" in machine:
            execution = machine.replace(":stateMachine:", ":execution:") + ":demo-1"
            # Pasted into a fresh shell it must work: the local endpoint takes any credentials,
            # but the AWS CLI refuses to send a request without some.
            lines.append(
                f"  {CLI_CREDENTIALS} {_aws_cli()} --endpoint-url {endpoint} "
                f"--region {self.options.region} "
                f"stepfunctions get-execution-history --execution-arn {execution}"
            )
        return lines

    # -- stop ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything that was started, in reverse order (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.terminal.stop_view()
        if self.fis is not None:  # experiments end before their functions do
            self.fis.stop_all()
        self._drain_and_save()
        for poller in self.pollers:
            poller.signal_stop()
        if self.api is not None:
            with contextlib.suppress(Exception):
                self.api.stop()
        deadline = time.monotonic() + 1.0  # a poller in a long poll ends with the endpoint
        for poller in self.pollers:
            poller.stop(timeout=max(0.0, deadline - time.monotonic()))
        if self.cloudwatch is not None:
            self.cloudwatch.stop()
        if self.runtime is not None:
            with contextlib.suppress(Exception):
                self.runtime.shutdown()
        if self.endpoint is not None:
            with contextlib.suppress(Exception):
                self.endpoint.stop()
        statefile.remove(self.options.state_path, os.getpid())
        if self._work_dir is not None:
            self._work_dir.cleanup()
        self.terminal.close()

    def _drain_and_save(self) -> None:
        """Intake first, in-flight work to a resting point (bounded), then the last save."""
        if not self.keeper.armed:
            return  # the start did not get as far as restoring: nothing of ours to save
        self.keeper.stop_checkpoints()
        result = persistence.drain(
            self.intake,
            self.pollers,
            self.options.region,
            deadline_seconds=self.options.drain_seconds,
            say=lambda line: self.say(f"ftb local: {line}"),
            hurry=self.hurry.is_set,
        )
        if self.execution_logs is not None:  # the drained executions' last events, then save
            self.execution_logs.stop()
        try:
            figures = self.keeper.save()
        except (OSError, TimeoutError) as error:
            self.say(
                f"ftb local: the state could not be saved ({error}); the last checkpoint "
                f"in {self.keeper.store.directory} is what the next start restores"
            )
            return
        if figures is not None:
            rerun = (
                f"; {figures.running} still running, to run again at the next start"
                if figures.running
                else ""
            )
            self.say(
                f"ftb local: state saved to {self.keeper.store.directory} "
                f"({figures.executions} executions, {figures.messages} queued messages"
                f"{rerun}; drained in {result.seconds:.1f} s)"
            )


_EXECUTE_API = re.compile(
    r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/([^/\s\"]+)"
)


def _aws_cli() -> str:
    """The AWS CLI installed beside this Python (.venv/bin/aws: on no PATH in a fresh shell),
    else `aws` from the PATH."""
    beside = Path(sys.executable).parent / "aws"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else "aws"


def _display_host(host: str) -> str:
    return display_host(host)


def run(
    options: LocalOptions,
    stop_requested: threading.Event,
    hurry: threading.Event | None = None,
) -> int:
    """`ftb local` in the foreground until `stop_requested` is set (by a signal handler);
    `hurry` (a second Ctrl-C) cuts the drain short."""
    cloud = LocalCloud(options)
    if hurry is not None:
        cloud.hurry = hurry
    try:
        cloud.start()
    except (LocalCloudError, synthesis.SynthError, TemplateError, ProvisionError) as error:
        print(f"ftb local: {error}", file=sys.stderr)
        return 2
    finally:
        startup_gc.resume()  # ready (or failed): paused by the command line for the start
    reloader: Any = None
    # Companion servers (the task console, registered by ftb/cli.py): started once ready,
    # their URLs in the state file and the banner, stopped before the cloud.
    running_companions = companions.RunningCompanions(options.state_path, cloud.say)
    try:
        if not stop_requested.is_set():  # Ctrl-C during start-up: straight to the stop
            cloud.companion_outputs = running_companions.start(companions.registered())
            cloud.companion_lines = running_companions.banner_lines()
            if cloud.companion_outputs:
                statefile.write(options.state_path, cloud.state())
            print(cloud.banner(), flush=True)
            cloud.terminal.start_view(cloud.live_view)
            if options.watch and options.template is None:
                # Imported after ready and the banner: neither waits for it.
                from ftb.localcloud.hot_reload import HotReloader

                assert cloud.running is not None
                reloader = HotReloader(
                    cloud.running,
                    cloud.apply,
                    options,
                    say=cloud.say,
                    code_swapped=cloud.keeper.template_changed,
                )
                reloader.start()
        # Not stop_requested.wait(): a signal that the kernel delivers to another thread
        # (there are dozens under load) does not wake a main thread blocked on a lock, and
        # Ctrl-C went unanswered for over a minute; sleep wakes, and the handler runs.
        while not stop_requested.is_set():
            time.sleep(0.1)
        cloud.terminal.stop_view()
        print("\nftb local: stopping...", flush=True)
    finally:
        if reloader is not None:
            reloader.stop()
        running_companions.stop()
        cloud.stop()
    print("ftb local: stopped.", flush=True)
    return 0
