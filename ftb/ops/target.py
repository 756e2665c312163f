"""Which system the operator commands talk to: the local cloud, or a deployed stack.

- `--stack NAME [--region R] [--profile P]` (or FTB_STACK): a deployed stack. Its endpoints
  and ARNs come from its CloudFormation outputs, its log groups from its resources.
- otherwise the local cloud, when it runs: `ftb local` writes its endpoints and the stack's
  local outputs to a state file (.ftb/local.json), and the AWS endpoint must answer.

Neither reachable is an error that says how to get one.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from ftb import statefile
from ftb.ops.api_auth import ApiKeyHeader, Authorize, SigV4Signer
from ftb.ops.output import EXIT_USAGE, CommandError
from infra import names

STACK_ENV = "FTB_STACK"

# Outputs every command may need, by the name the stack gives them.
API_URL = names.OUT_API_URL
TASKS_ENDPOINT = names.OUT_TASKS_ENDPOINT
STATE_MACHINE_ARN = names.OUT_STATE_MACHINE_ARN
TASK_QUEUE_URL = names.OUT_TASK_QUEUE_URL
DEAD_LETTER_QUEUE_URL = names.OUT_DEAD_LETTER_QUEUE_URL
TASKS_TABLE_NAME = names.OUT_TASKS_TABLE_NAME
STATE_MACHINE_LOG_GROUP = names.OUT_STATE_MACHINE_LOG_GROUP
API_AUTHORIZATION = names.OUT_API_AUTHORIZATION
API_KEY_ID = names.OUT_API_KEY_ID

_START_LOCAL = "start the local cloud with `make run` (or `ftb local`) in another terminal"
_USE_STACK = "or target a deployed stack with `--stack NAME [--region R] [--profile P]`"
# The CLI's own calls: a few retries, then a clear error instead of a long hang.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,
)


@dataclass
class Target:
    """Everything a command needs to reach one running system."""

    kind: Literal["local", "aws"]
    name: str  # the stack name
    region: str
    outputs: dict[str, str]
    log_groups: list[str] = field(default_factory=list)
    endpoint_url: str | None = None  # the local AWS endpoint; None on AWS
    profile: str | None = None
    # The local cloud's API principal (access key id, secret) and generated API keys.
    api_credentials: tuple[str, str] | None = None
    api_keys: dict[str, str] = field(default_factory=dict)
    # Servers the local cloud runs beside the stack (the console): output -> URL.
    companion_outputs: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        if self.kind == "local":
            return f"local cloud ({self.endpoint_url})"
        return f"stack {self.name} ({self.region})"

    @cached_property
    def session(self) -> boto3.session.Session:
        if self.kind == "local":
            # Fake credentials: the local endpoint accepts any, and real ones must never leave.
            return boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                aws_session_token="testing",
                region_name=self.region,
            )
        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    def client(self, service: str) -> Any:
        """A boto3 client for this target (thread-safe once created; create before threading)."""
        return self.session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            config=_CLIENT_CONFIG,
        )

    def table(self) -> Any:
        """The tasks table (a boto3 DynamoDB Table resource)."""
        resource = self.session.resource(
            "dynamodb", endpoint_url=self.endpoint_url, config=_CLIENT_CONFIG
        )
        return resource.Table(self.table_name)

    @cached_property
    def api_auth(self) -> Authorize | None:
        """What every request to the task API carries (output ApiAuthorization decides)."""
        mode = self.outputs.get(API_AUTHORIZATION, names.API_AUTH_NONE)
        if mode == names.API_AUTH_IAM:
            if self.kind == "local":
                if self.api_credentials is None:
                    raise CommandError(
                        "the local cloud's state file names no API credentials",
                        "restart the local cloud (`make run`) with this version of ftb",
                    )
                access_key, secret = self.api_credentials
                local = Credentials(access_key, secret)
                return SigV4Signer(lambda: local.get_frozen_credentials(), self.region)
            credentials = self.session.get_credentials()
            if credentials is None:
                raise _aws_failure(NoCredentialsError(), self.name, self.region)
            return SigV4Signer(credentials.get_frozen_credentials, self.region)
        if mode == names.API_AUTH_API_KEY:
            return ApiKeyHeader(self._api_key_value())
        return None

    def _api_key_value(self) -> str:
        key_id = self.output(API_KEY_ID)
        if self.kind == "local":
            value = self.api_keys.get(key_id)
            if value is None:
                raise CommandError(
                    f"the local cloud's state file has no value for API key {key_id}",
                    "restart the local cloud (`make run`) so that it provisions the template",
                )
            return value
        try:
            answer = self.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(
                f"could not read the value of API key {key_id}: {exc}",
                "use credentials allowed apigateway:GET on the key (docs/operations.md)",
            ) from None
        return str(answer["value"])

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            hint = (
                "restart the local cloud (`make run`) so that it provisions the current template"
                if self.kind == "local"
                else f"check that {self.name} is this project's stack; redeploy it (`make deploy`)"
            )
            raise CommandError(f"{self.description} has no output {key}", hint)
        return value

    @property
    def tasks_endpoint(self) -> str:
        return self.output(TASKS_ENDPOINT).rstrip("/")

    @property
    def state_machine_arn(self) -> str:
        return self.output(STATE_MACHINE_ARN)

    @property
    def table_name(self) -> str:
        return self.output(TASKS_TABLE_NAME)

    def function_name(self, name: str) -> str:
        """A function's physical name: a stack function by its key (`process-task`), from the
        stack's `ProcessTaskFunctionName`-style output, or as the stack names it
        (`{stack}-process-task`) when an older stack lacks the output; anything else is
        taken as a physical name or ARN already."""
        for spec in names.ALL_FUNCTIONS:
            if name == spec.key:
                output = self.outputs.get(names.function_output_id(spec))
                return output or spec.function_name(self.name)
        return name

    def stack_functions(self) -> dict[str, str]:
        """The stack's functions: key -> physical name."""
        return {spec.key: self.function_name(spec.key) for spec in names.ALL_FUNCTIONS}


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (default: the local cloud, when it runs)")
    group.add_argument(
        "--stack",
        default=os.environ.get(STACK_ENV),
        metavar="NAME",
        help=f"a deployed stack (env {STACK_ENV}), e.g. {names.DEFAULT_STACK_NAME}",
    )
    group.add_argument("--region", help="the deployed stack's region (default: your AWS config)")
    group.add_argument("--profile", help="the AWS profile to use for the deployed stack")
    group.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help=(
            f"the local cloud's state file (env {statefile.STATE_FILE_ENV}; "
            f"default {statefile.DEFAULT_STATE_FILE})"
        ),
    )


def resolve(args: argparse.Namespace) -> Target:
    """The target the command line asks for; a CommandError when it cannot be reached."""
    stack = getattr(args, "stack", None)
    if stack:
        return resolve_stack(stack, region=args.region, profile=args.profile)
    if args.region or args.profile:
        raise CommandError(
            "--region and --profile select a deployed stack, but no --stack was given",
            f"add `--stack NAME` (e.g. --stack {names.DEFAULT_STACK_NAME}), "
            "or drop them to use the local cloud",
        )
    return resolve_local(statefile.state_file_path(getattr(args, "state_file", None)))


# --- the local cloud ------------------------------------------------------------------------


def resolve_local(state_file: Path) -> Target:
    try:
        state = statefile.read(state_file)
    except statefile.StateFileError as exc:
        raise CommandError(
            f"the local cloud's state file is unusable: {exc}",
            f"restart the local cloud (`make run`), which rewrites it; {_USE_STACK}",
        ) from None
    if state is None:
        raise CommandError(
            f"the local cloud is not running (no state file at {state_file}) "
            "and no --stack was given",
            f"{_START_LOCAL}, {_USE_STACK}",
        )
    if not statefile.is_running(state):
        raise CommandError(
            f"the local cloud is not running (its AWS endpoint {state.endpoint_url} does not "
            f"answer; {state_file} is left over from an earlier run)",
            f"{_START_LOCAL}, {_USE_STACK}",
        )
    log_groups = state.log_groups or [f"/aws/lambda/{name}" for name in state.functions.values()]
    return Target(
        kind="local",
        name=state.stack_name,
        region=state.region,
        outputs=dict(state.outputs),
        log_groups=list(log_groups),
        endpoint_url=state.endpoint_url,
        api_credentials=(
            (state.credentials.access_key_id, state.credentials.secret_access_key)
            if state.credentials is not None
            else None
        ),
        api_keys=dict(state.api_keys),
        companion_outputs=dict(state.companions),
    )


# --- a deployed stack -----------------------------------------------------------------------


def _aws_failure(exc: Exception, stack: str, region: str | None) -> CommandError:
    if isinstance(exc, NoCredentialsError):
        return CommandError(
            "no AWS credentials found",
            "configure them (`aws configure`, `aws sso login`, or AWS_PROFILE) "
            "or pass --profile; for the local cloud, drop --stack",
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code == "ValidationError" and "does not exist" in message:
            return CommandError(
                f"stack {stack} does not exist in {region}",
                "check --stack and --region (`aws cloudformation list-stacks`), "
                "or deploy it with `make deploy`",
            )
        if code in {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"}:
            return CommandError(
                f"your AWS credentials were refused ({code})",
                "refresh them (e.g. `aws sso login`) and try again",
            )
        if code in {"AccessDenied", "AccessDeniedException"}:
            return CommandError(
                f"access denied reading stack {stack}: {message}",
                "use credentials allowed cloudformation:DescribeStacks and ListStackResources "
                "(--profile)",
            )
        return CommandError(f"AWS refused the call: {code}: {message}", "check the stack and retry")
    return CommandError(
        f"could not reach AWS: {exc}", "check your network and --region, then try again"
    )


def resolve_stack(stack: str, *, region: str | None, profile: str | None) -> Target:
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise CommandError(
            f"AWS profile {profile!r} is not configured",
            "pick one from `aws configure list-profiles`",
            EXIT_USAGE,
        ) from None
    if not session.region_name:
        raise CommandError(
            "no AWS region: --region was not given and your AWS config has none",
            "pass --region (e.g. --region us-east-1) or set AWS_REGION",
        )
    cloudformation = session.client("cloudformation", config=_CLIENT_CONFIG)
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        resources: list[Any] = []
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
            resources.extend(page["StackResourceSummaries"])
    except (ClientError, BotoCoreError) as exc:
        raise _aws_failure(exc, stack, session.region_name) from None
    outputs = outputs_of(described)
    return Target(
        kind="aws",
        name=stack,
        region=session.region_name,
        outputs=outputs,
        log_groups=stack_log_groups(resources, outputs),
        profile=profile,
    )


def outputs_of(described: Mapping[str, Any]) -> dict[str, str]:
    """OutputKey -> OutputValue of a DescribeStacks stack."""
    return {
        output["OutputKey"]: output["OutputValue"]
        for output in described.get("Outputs", [])
        if "OutputKey" in output and "OutputValue" in output
    }


def read_stack_outputs(target: Target) -> dict[str, str]:
    """The stack's outputs from DescribeStacks on the target: AWS, or the local cloud's
    endpoint, which serves the provisioned template as a stack with its local values."""
    cloudformation = target.client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=target.name)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        if target.kind == "local":
            raise CommandError(
                f"the local cloud's endpoint {target.endpoint_url} did not describe stack "
                f"{target.name}: {exc}",
                "restart the local cloud (`make run`) so that it serves its stack",
            ) from None
        raise _aws_failure(exc, target.name, target.region) from None
    return outputs_of(described)


def stack_log_groups(resources: list[dict[str, Any]], outputs: Mapping[str, str]) -> list[str]:
    """Every log group a task's lines can be in: the functions' and the stack's own groups."""
    groups: list[str] = []
    for resource in resources:
        physical = resource.get("PhysicalResourceId")
        if not physical:
            continue
        if resource.get("ResourceType") == "AWS::Lambda::Function":
            groups.append(f"/aws/lambda/{physical}")
        elif resource.get("ResourceType") == "AWS::Logs::LogGroup":
            groups.append(physical)
    if outputs.get(STATE_MACHINE_LOG_GROUP):
        groups.append(outputs[STATE_MACHINE_LOG_GROUP])
    return sorted(dict.fromkeys(groups))
