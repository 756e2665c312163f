"""The five functions: runtime, layer, tracing, logs, environment, roles, event sources."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_lambda as lambda_

from infra import names
from infra.constructs.functions import powertools_layer_parameter

ENVIRONMENT_KEYS = {
    names.SUBMIT_TASK: {"TASKS_TABLE_NAME", "TASK_QUEUE_URL", "STATE_MACHINE_ARN"},
    names.GET_TASK: {"TASKS_TABLE_NAME", "TASK_QUEUE_URL", "STATE_MACHINE_ARN"},
    names.START_EXECUTION: {"TASK_QUEUE_URL", "STATE_MACHINE_ARN"},
    names.PROCESS_TASK: {"FAILURE_RATE"},
    names.MONITOR_DLQ: {"TASKS_TABLE_NAME"},
}
POWERTOOLS_KEYS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
LOG_RETENTION_DAYS = 30


def newest_python_runtime() -> str:
    """The newest Python runtime the installed aws-cdk-lib knows."""
    versions = [
        tuple(int(part) for part in attr.removeprefix("PYTHON_").split("_"))
        for attr in dir(lambda_.Runtime)
        if attr.startswith("PYTHON_3_")
    ]
    major, minor = max(versions)
    return f"python{major}.{minor}"


def test_there_are_exactly_the_five_functions(stack):
    # Given the template  Then it holds the five functions of the design, by name
    deployed = {
        r["Properties"]["FunctionName"] for r in stack.of_type("AWS::Lambda::Function").values()
    }
    assert deployed == {spec.function_name(stack.stack_name) for spec in names.ALL_FUNCTIONS}


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_function_runtime_architecture_code_and_tracing(stack, spec):
    # Given one function
    props = stack.props(stack.function_id(spec))
    # Then it runs the newest Python runtime on arm64, from handlers/ as its code root
    assert props["Runtime"] == newest_python_runtime()
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == spec.handler
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_seconds
    # And X-Ray traces it
    assert props["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_function_uses_the_powertools_layer_of_its_runtime(stack, spec):
    # Given one function's layers
    layers = stack.props(stack.function_id(spec))["Layers"]
    # Then its only layer is the deploy-time SSM parameter that Powertools publishes for
    # this architecture and runtime (no lookup at synth, no account needed)
    assert len(layers) == 1 and set(layers[0]) == {"Ref"}
    parameter = stack.template["Parameters"][layers[0]["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    runtime = stack.props(stack.function_id(spec))["Runtime"]
    assert parameter["Default"] == f"/aws/service/powertools/python/arm64/{runtime}/latest"
    assert parameter["Default"] == powertools_layer_parameter()


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_function_environment(stack, spec):
    # Given one function's environment
    env = stack.props(stack.function_id(spec))["Environment"]["Variables"]
    # Then it holds exactly what its settings read, plus the Powertools configuration
    assert set(env) == ENVIRONMENT_KEYS[spec] | POWERTOOLS_KEYS
    assert env["POWERTOOLS_SERVICE_NAME"] == spec.service
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "FaultTolerantBackend"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_environment_values_point_at_the_stack_resources(stack):
    # Given the functions that talk to the table, the queue and the workflow
    table_id, _ = stack.only("AWS::DynamoDB::Table")
    sm_id, _ = stack.only("AWS::StepFunctions::StateMachine")
    for spec in (names.SUBMIT_TASK, names.GET_TASK, names.START_EXECUTION, names.MONITOR_DLQ):
        env = stack.props(stack.function_id(spec))["Environment"]["Variables"]
        # Then each variable references the resource of this stack
        if "TASKS_TABLE_NAME" in env:
            assert env["TASKS_TABLE_NAME"] == {"Ref": table_id}
        if "TASK_QUEUE_URL" in env:
            assert env["TASK_QUEUE_URL"] == {"Ref": stack.task_queue_id}
        if "STATE_MACHINE_ARN" in env:
            assert env["STATE_MACHINE_ARN"] == {"Ref": sm_id}


def test_failure_simulation_defaults(stack):
    # Given no failureRate/failureSeed context
    env = stack.props(stack.function_id(names.PROCESS_TASK))["Environment"]["Variables"]
    # Then process-task fails 30 % of the time, unseeded, as the original system specified
    assert env["FAILURE_RATE"] == "0.3"
    assert "FAILURE_SEED" not in env


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_function_logs_to_its_own_log_group_with_retention(stack, spec):
    # Given one function's logging configuration
    logging = stack.props(stack.function_id(spec))["LoggingConfig"]
    log_group_id = logging["LogGroup"]["Ref"]
    resource = stack.resources[log_group_id]
    # Then it writes to /aws/lambda/<function name>, kept 30 days, deleted with the stack
    assert resource["Properties"]["LogGroupName"] == spec.log_group_name(stack.stack_name)
    assert resource["Properties"]["RetentionInDays"] == LOG_RETENTION_DAYS
    assert resource["DeletionPolicy"] == "Delete"


def _expected_statements(stack, spec):
    table_id, _ = stack.only("AWS::DynamoDB::Table")
    sm_id, _ = stack.only("AWS::StepFunctions::StateMachine")
    table = {"Fn::GetAtt": [table_id, "Arn"]}
    task_queue = {"Fn::GetAtt": [stack.task_queue_id, "Arn"]}
    dlq = {"Fn::GetAtt": [stack.dead_letter_queue_id, "Arn"]}
    executions = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":execution:{stack.stack_name}-task-workflow:*",
            ],
        ]
    }
    consume = {
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
    }
    return {
        names.SUBMIT_TASK: [
            ({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, [table]),
            # SendMessage only: the handler never reads the queue's attributes or URL
            ({"sqs:SendMessage"}, [task_queue]),
            ({"states:DescribeExecution"}, [executions]),
        ],
        names.GET_TASK: [
            ({"dynamodb:GetItem"}, [table]),
            ({"states:DescribeExecution"}, [executions]),
        ],
        names.START_EXECUTION: [
            (consume, [task_queue]),
            ({"states:StartExecution"}, [{"Ref": sm_id}]),
        ],
        names.PROCESS_TASK: [],
        names.MONITOR_DLQ: [
            ({"dynamodb:UpdateItem"}, [table]),
            (consume, [dlq]),
        ],
    }[spec]


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_function_role_is_least_privilege(stack, spec):
    # Given one function's role and the policies attached to it
    role_id = stack.role_id_of_function(spec)
    role = stack.props(role_id)
    statements = stack.policy_statements_of_role(role_id)
    fn_log_group = stack.props(stack.function_id(spec))["LoggingConfig"]["LogGroup"]["Ref"]
    # Then it has no managed policy and trusts only Lambda
    assert "ManagedPolicyArns" not in role
    principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "lambda.amazonaws.com"}]
    # And it may write its own log group, send X-Ray traces, and make its handler's calls only
    expected = [
        ({"logs:CreateLogStream", "logs:PutLogEvents"}, [{"Fn::GetAtt": [fn_log_group, "Arn"]}]),
        ({"xray:PutTelemetryRecords", "xray:PutTraceSegments"}, ["*"]),
        *_expected_statements(stack, spec),
    ]
    actual = [(stack.actions_of(s), stack.resources_of(s)) for s in statements]
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    assert sorted(actual, key=repr) == sorted(expected, key=repr)


def _mapping_on(stack, queue_id):
    found = [
        m["Properties"]
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert len(found) == 1
    return found[0]


def test_starter_event_source_mapping(stack):
    # Given the mapping from the task queue
    mapping = _mapping_on(stack, stack.task_queue_id)
    # Then it feeds the starter in batches, with partial batch responses and bounded concurrency
    assert mapping["FunctionName"] == {"Ref": stack.function_id(names.START_EXECUTION)}
    assert mapping["BatchSize"] == names.STARTER_BATCH_SIZE == 10
    assert mapping["MaximumBatchingWindowInSeconds"] == names.STARTER_BATCH_WINDOW_SECONDS
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": names.STARTER_MAX_CONCURRENCY}


def test_starter_concurrency_stays_below_the_start_execution_refill_rate(stack):
    # Given the starter's MaximumConcurrency and StartExecution's token-bucket refill rate in
    # the smaller regions (150/s; 300/s in the large ones)
    concurrency = _mapping_on(stack, stack.task_queue_id)["ScalingConfig"]["MaximumConcurrency"]
    smaller_region_refill_per_second = 150
    # When every instance starts executions back to back at a fast 40 ms per call
    fastest_calls_per_instance = 1 / 0.040
    # Then the sustained demand stays within the refill (bursts come out of the bucket)
    assert concurrency * fastest_calls_per_instance <= smaller_region_refill_per_second
    assert concurrency >= 2  # Lambda's minimum for MaximumConcurrency


def test_monitor_event_source_mapping(stack):
    # Given the mapping from the dead-letter queue
    mapping = _mapping_on(stack, stack.dead_letter_queue_id)
    # Then it feeds the monitor with partial batch responses
    assert mapping["FunctionName"] == {"Ref": stack.function_id(names.MONITOR_DLQ)}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == names.MONITOR_BATCH_SIZE


def test_monitor_queue_visibility_covers_its_timeout(stack):
    # Given the DLQ consumed by the monitor  Then its visibility timeout is 6x the monitor's
    monitor = stack.props(stack.function_id(names.MONITOR_DLQ))
    assert stack.props(stack.dead_letter_queue_id)["VisibilityTimeout"] >= 6 * monitor["Timeout"]


def test_code_asset_is_the_handlers_directory(stack):
    # Given the code asset staged into the cloud assembly
    metadata = stack.resources[stack.function_id(names.SUBMIT_TASK)]["Metadata"]
    asset_dir = stack.outdir / metadata["aws:asset:path"]
    staged = {p.relative_to(asset_dir).as_posix() for p in asset_dir.rglob("*") if p.is_file()}
    # Then every handler string names a module at its root, the task domain and the Lambda
    # support package sit beside them, nothing else does, and no bytecode caches are shipped
    handler_modules = {f"{spec.handler.split('.')[0]}.py" for spec in names.ALL_FUNCTIONS}
    assert handler_modules <= staged
    assert {"task_domain/models.py", "lambda_support/settings.py"} <= staged
    top_level = {path.split("/")[0] for path in staged}
    assert top_level == handler_modules | {"task_domain", "lambda_support"}
    assert not [p for p in staged if "__pycache__" in p or p.endswith(".pyc")]
    # And every function deploys that one asset
    codes = {
        json.dumps(r["Properties"]["Code"], sort_keys=True)
        for r in stack.of_type("AWS::Lambda::Function").values()
    }
    assert len(codes) == 1
