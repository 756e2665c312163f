"""Alarms: every failure signal of the design, all to one encrypted, TLS-only SNS topic."""

from __future__ import annotations

import fnmatch

import pytest

import monitor_dlq
from infra import names


def _alarms(stack):
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in stack.of_type("AWS::CloudWatch::Alarm").values()
    }


def _alarm(stack, suffix):
    return _alarms(stack)[f"{stack.stack_name}-{suffix}"]


def test_topic_is_encrypted_with_a_rotating_key_cloudwatch_may_use(stack):
    # Given the alarm topic and its key
    _, topic = stack.only("AWS::SNS::Topic")
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = stack.props(key_id)
    # Then the key rotates and CloudWatch may use it to publish alarms
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1
    assert stack.actions_of(cloudwatch[0]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    # And only on behalf of this account (no confused deputy)
    assert cloudwatch[0]["Effect"] == "Allow"
    assert cloudwatch[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def _alarm_arn_pattern(stack):
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudwatch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":alarm:{stack.stack_name}-*",
            ],
        ]
    }


def test_topic_policy_lets_this_stacks_alarms_publish(stack):
    # Given the topic policy (enforce_ssl's policy replaces SNS's default one)
    topic_id, _ = stack.only("AWS::SNS::Topic")
    _, policy = stack.only("AWS::SNS::TopicPolicy")
    assert policy["Topics"] == [{"Ref": topic_id}]
    allows = [
        {k: v for k, v in s.items() if k != "Sid"}
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    # Then its one Allow lets CloudWatch publish to this topic, for this account's alarms only
    assert allows == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": {
                "ArnLike": {"aws:SourceArn": _alarm_arn_pattern(stack)},
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            },
        }
    ]


def test_every_alarm_name_matches_the_publish_condition(stack):
    # Given the alarm-name pattern of the topic policy's aws:SourceArn condition
    pattern = _alarm_arn_pattern(stack)["Fn::Join"][1][-1].removeprefix(":alarm:")
    # Then every alarm of the stack may publish (a name outside it would be refused silently)
    alarms = _alarms(stack)
    assert alarms
    assert all(fnmatch.fnmatchcase(name, pattern) for name in alarms), sorted(alarms)


def test_topic_refuses_plain_http(stack):
    _, policy = stack.only("AWS::SNS::TopicPolicy")
    denies = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denies) == 1


def test_alarm_email_context_subscribes_that_address(stack):
    # Given the context value alarmEmail  Then the topic has that e-mail subscription
    subscriptions = [r["Properties"] for r in stack.of_type("AWS::SNS::Subscription").values()]
    _ = stack.only("AWS::SNS::Topic")
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("email", stack.context[names.CTX_ALARM_EMAIL])
    ]


def test_every_alarm_notifies_the_topic(stack):
    topic_id, _ = stack.only("AWS::SNS::Topic")
    alarms = _alarms(stack)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_dead_lettered_tasks_alarm_watches_the_monitor_metric(stack):
    # Given the monitor's Powertools configuration as deployed
    env = stack.props(stack.function_id(names.MONITOR_DLQ))["Environment"]["Variables"]
    alarm = _alarm(stack, "DeadLetteredTasks")
    # Then the alarm watches the metric it emits, with the `service` dimension Powertools adds
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["MetricName"] == monitor_dlq.METRIC_NAME == "DeadLetteredTasks"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize(
    ("suffix", "queue", "metric"),
    [
        ("DeadLetterQueueDepth", "dead-letter-queue", "ApproximateNumberOfMessagesVisible"),
        ("DeadLetterQueueOldestMessage", "dead-letter-queue", "ApproximateAgeOfOldestMessage"),
        ("TaskQueueOldestMessage", "task-queue", "ApproximateAgeOfOldestMessage"),
    ],
)
def test_queue_alarms(stack, suffix, queue, metric):
    alarm = _alarm(stack, suffix)
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == metric
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [stack.queue_id(queue), "QueueName"]}}
    ]


@pytest.mark.parametrize(
    ("suffix", "metric"),
    [
        ("ExecutionsFailed", "ExecutionsFailed"),
        ("ExecutionsTimedOut", "ExecutionsTimedOut"),
        ("ExecutionsThrottled", "ExecutionThrottled"),
    ],
)
def test_workflow_alarms(stack, suffix, metric):
    sm_id, _ = stack.only("AWS::StepFunctions::StateMachine")
    alarm = _alarm(stack, suffix)
    assert alarm["Namespace"] == "AWS/States"
    assert alarm["MetricName"] == metric
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": sm_id}}]
    assert alarm["Threshold"] == 1


def _title(spec):
    return "".join(part.capitalize() for part in spec.key.split("-"))


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_each_function_has_throttle_and_error_alarms(stack, spec):
    function_ref = {"Ref": stack.function_id(spec)}
    throttles = _alarm(stack, f"{_title(spec)}Throttles")
    assert (throttles["Namespace"], throttles["MetricName"]) == ("AWS/Lambda", "Throttles")
    assert throttles["Dimensions"] == [{"Name": "FunctionName", "Value": function_ref}]
    if spec is names.PROCESS_TASK:
        # process-task fails by design (FAILURE_RATE): its alarm is on the error rate
        alarm = _alarm(stack, "ProcessTaskErrorRate")
        by_id = {m["Id"]: m for m in alarm["Metrics"]}
        assert by_id["errors"]["MetricStat"]["Metric"]["MetricName"] == "Errors"
        assert by_id["invocations"]["MetricStat"]["Metric"]["MetricName"] == "Invocations"
        for metric_id in ("errors", "invocations"):
            dims = by_id[metric_id]["MetricStat"]["Metric"]["Dimensions"]
            assert dims == [{"Name": "FunctionName", "Value": function_ref}]
        assert alarm["Threshold"] > 30  # above the simulated 30 % transient failures
    else:
        errors = _alarm(stack, f"{_title(spec)}Errors")
        assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
        assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": function_ref}]
        assert errors["Threshold"] == 1


def test_api_server_error_rate_alarm(stack):
    # Given the alarm on the API's 5xx answers (the stop condition of submit-task-errors)
    alarm = _alarm(stack, "ApiServerErrorRate")
    _, api = stack.only("AWS::ApiGateway::RestApi")
    # Then it reads the API's 5XXError average (the share of requests answered 5xx)
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert alarm["Statistic"] == "Average"
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": api["Name"]}]
    # And it fires when half the requests fail, not on a single 503
    assert alarm["Threshold"] == 0.5


def test_there_are_no_other_alarms(stack):
    # 1 dead-lettered + 3 queue + 3 workflow + 1 API + 2 per function
    assert len(_alarms(stack)) == 1 + 3 + 3 + 1 + 2 * len(names.ALL_FUNCTIONS)
