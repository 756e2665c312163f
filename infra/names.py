"""Every name the stack uses, in one place: functions, handlers, metrics, outputs, context keys.

The local cloud, the operator commands and the tests import these instead of repeating strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Lambda's code root is handlers/ itself (like /var/task): handler strings are "module.handler".
HANDLERS_DIR = REPO_ROOT / "handlers"
ASL_PATH = REPO_ROOT / "statemachine" / "task_workflow.asl.json"
# What never belongs in the deployment package.
ASSET_EXCLUDES = [
    "**/__pycache__",
    "**/*.pyc",
    "**/.mypy_cache",
    "**/.pytest_cache",
    "**/.ruff_cache",
]

# The stack's construct id: the cloud assembly artifact (cdk.out/<STACK_ID>.template.json) and
# what `cdk deploy <STACK_ID>` selects, whatever CloudFormation stack name context `stackName` sets.
STACK_ID = "FaultTolerantBackend"
DEFAULT_STACK_NAME = "FaultTolerantBackend"
STACK_DESCRIPTION = (
    "Fault-tolerant task backend: API Gateway -> Lambda -> DynamoDB + SQS -> "
    "Step Functions (Standard) with retries and a dead-letter queue."
)

# Context keys (cdk.json or `cdk -c key=value`).
CTX_STACK_NAME = "stackName"
CTX_ALARM_EMAIL = "alarmEmail"
CTX_FAILURE_RATE = "failureRate"
CTX_FAILURE_SEED = "failureSeed"
CTX_LOG_LEVEL = "logLevel"
CTX_TABLE_REMOVAL = "tableRemovalPolicy"  # "retain" (default) | "destroy"
CTX_API_AUTH = "apiAuth"  # "iam" (default) | "apiKey" | "none"
CTX_API_KEY_RATE = "apiKeyRateLimit"  # the usage plan's steady requests per second
CTX_API_KEY_BURST = "apiKeyBurstLimit"
CTX_API_KEY_QUOTA = "apiKeyQuotaPerDay"
CTX_CHAOS = "chaos"  # "true": the AWS FIS experiments and what they need (off by default)

# Observability.
METRICS_NAMESPACE = "FaultTolerantBackend"
DEAD_LETTERED_TASKS_METRIC = "DeadLetteredTasks"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_FAILURE_RATE = "0.3"

# The ASL placeholders the stack fills (statemachine/task_workflow.asl.json).
SUB_PROCESS_TASK_ARN = "ProcessTaskFunctionArn"
SUB_DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"

# Powertools for AWS Lambda (Python) v3 publishes its layer ARN per architecture and runtime.
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/{arch}/{runtime}/latest"

# The AWS FIS Lambda extension, published per architecture as a public SSM parameter
# (https://docs.aws.amazon.com/fis/latest/userguide/actions-lambda-extension-arns.html).
FIS_EXTENSION_LAYER_PARAMETER = "/aws/service/fis/lambda-extension/AWS-FIS-extension-{arch}/1.x.x"
# Where FIS writes active fault configurations and the extension reads them (a folder).
FIS_CONFIG_PREFIX = "FisConfigs/"

# The FIS experiment templates (context chaos=true): each template's Name tag and description.
EXPERIMENT_PROCESS_TASK_PARTIAL_FAILURE = "process-task-partial-failure"
EXPERIMENT_PROCESS_TASK_TOTAL_FAILURE = "process-task-total-failure"
EXPERIMENT_START_EXECUTION_DELAY = "start-execution-delay"
EXPERIMENT_SUBMIT_TASK_ERRORS = "submit-task-errors"

# Saved Logs Insights queries, listed under one folder named after the stack.
QUERY_FOLLOW_ONE_TASK = "follow-one-task"
QUERY_FAILURES_BY_ERROR = "failures-by-error"
QUERY_RETRIES_PER_TASK = "retries-per-task"
QUERY_DEAD_LETTERS = "dead-letters"
QUERY_SLOWEST_TASKS = "slowest-tasks"
# The placeholder a saved query carries where the operator puts a task id.
QUERY_TASK_ID_PLACEHOLDER = "TASK_ID"


def saved_query_name(stack_name: str, query: str) -> str:
    """`<stack>/<query>`: the console lists saved queries in folders split at `/`."""
    return f"{stack_name}/{query}"


def dashboard_name(stack_name: str) -> str:
    return f"{stack_name}-overview"


API_STAGE_NAME = "v1"
TASKS_RESOURCE = "tasks"
TASK_ID_PATH_PARAMETER = "taskId"


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its construct id, handler, service name and sizing."""

    key: str  # construct id and the suffix of the physical name
    handler: str
    service: str  # POWERTOOLS_SERVICE_NAME: the `service` key of logs and metric dimension
    memory_mb: int
    timeout_seconds: int
    description: str

    def function_name(self, stack_name: str) -> str:
        return f"{stack_name}-{self.key}"

    def log_group_name(self, stack_name: str) -> str:
        return f"/aws/lambda/{self.function_name(stack_name)}"


# Sizing is justified in docs/decisions.md ("Lambda memory and timeouts").
SUBMIT_TASK = FunctionSpec(
    key="submit-task",
    handler="submit_task.handler",
    service="submit-task",
    memory_mb=512,
    timeout_seconds=10,
    description="POST /tasks: validate, record the task (conditional write), enqueue it.",
)
GET_TASK = FunctionSpec(
    key="get-task",
    handler="get_task.handler",
    service="get-task",
    memory_mb=512,
    timeout_seconds=10,
    description="GET /tasks/{taskId}: the task's status from its record and its execution.",
)
START_EXECUTION = FunctionSpec(
    key="start-execution",
    handler="start_execution.handler",
    service="start-execution",
    memory_mb=256,
    timeout_seconds=30,
    description="Task queue -> one StartExecution per task, named after the taskId.",
)
PROCESS_TASK = FunctionSpec(
    key="process-task",
    handler="process_task.handler",
    service="process-task",
    memory_mb=256,
    timeout_seconds=15,
    description="The workflow's work: simulated transient and permanent failures.",
)
MONITOR_DLQ = FunctionSpec(
    key="monitor-dlq",
    handler="monitor_dlq.handler",
    service="monitor-dlq",
    memory_mb=256,
    timeout_seconds=30,
    description="Dead-letter queue -> one structured log record and a DeadLetteredTasks metric.",
)
ALL_FUNCTIONS = (SUBMIT_TASK, GET_TASK, START_EXECUTION, PROCESS_TASK, MONITOR_DLQ)

# Task queue and its consumer (arithmetic in docs/decisions.md).
STARTER_BATCH_SIZE = 10
STARTER_BATCH_WINDOW_SECONDS = 1
STARTER_MAX_CONCURRENCY = 5
# AWS: visibility timeout >= 6x the function timeout plus the batching window.
TASK_QUEUE_VISIBILITY_SECONDS = 6 * START_EXECUTION.timeout_seconds + STARTER_BATCH_WINDOW_SECONDS
TASK_QUEUE_MAX_RECEIVE_COUNT = 50
TASK_QUEUE_RETENTION_DAYS = 4
DLQ_RETENTION_DAYS = 14
MONITOR_BATCH_SIZE = 10
MONITOR_MAX_CONCURRENCY = 2
# The starter's throttling backoff (handlers/shared/settings.py StarterSettings defaults).
STARTER_BACKOFF_BASE_SECONDS = 5
STARTER_BACKOFF_MAX_SECONDS = 300

# API stage throttling (steady requests per second and burst).
API_THROTTLE_RATE = 50
API_THROTTLE_BURST = 100

# Who may call the API (docs/decisions.md "API authorization"): SigV4-signed AWS principals
# (default), holders of an API key, or anyone (only when asked for by name).
API_AUTH_IAM = "iam"
API_AUTH_API_KEY = "apiKey"
API_AUTH_NONE = "none"
API_AUTH_MODES = (API_AUTH_IAM, API_AUTH_API_KEY, API_AUTH_NONE)
DEFAULT_API_AUTH = API_AUTH_IAM
# The usage plan of the apiKey mode: under the stage's limits, and a daily quota per key.
API_KEY_RATE = 25
API_KEY_BURST = 50
API_KEY_QUOTA_PER_DAY = 100_000
API_KEY_HEADER = "x-api-key"

# Stack outputs.
OUT_API_URL = "ApiUrl"
OUT_TASKS_ENDPOINT = "TasksEndpoint"
OUT_STATE_MACHINE_ARN = "StateMachineArn"
OUT_STATE_MACHINE_CONSOLE_URL = "StateMachineConsoleUrl"
OUT_STATE_MACHINE_LOG_GROUP = "StateMachineLogGroupName"
OUT_TASK_QUEUE_URL = "TaskQueueUrl"
OUT_DEAD_LETTER_QUEUE_URL = "DeadLetterQueueUrl"
OUT_TASKS_TABLE_NAME = "TasksTableName"
OUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUT_API_ACCESS_LOG_GROUP = "ApiAccessLogGroupName"
OUT_API_AUTHORIZATION = "ApiAuthorization"  # iam | apiKey | none
OUT_API_INVOKE_POLICY_ARN = "ApiInvokePolicyArn"  # iam: attach to a client's role
OUT_API_KEY_ID = "ApiKeyId"  # apiKey: the key's id (its value is never an output)
OUT_API_USAGE_PLAN_ID = "ApiUsagePlanId"
OUT_DASHBOARD_URL = "DashboardUrl"
OUT_CHAOS_CONFIG_BUCKET = "ChaosConfigurationBucketName"  # chaos=true only
OUT_CHAOS_LOG_GROUP = "ChaosExperimentLogGroupName"  # chaos=true only


def function_output_id(spec: FunctionSpec) -> str:
    """`SubmitTaskFunctionName` etc.: the output naming each function."""
    return "".join(part.capitalize() for part in spec.key.split("-")) + "FunctionName"
