"""AWS FIS experiments (context chaos=true): templates, the extension on the targeted functions,
the configuration bucket, the experiment role; and none of it without the context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra import experiments, names
from infra.constructs.chaos import fis_extension_parameter

FIS_TYPES = ("AWS::FIS::ExperimentTemplate", "AWS::S3::Bucket")
FIS_ENV = ("AWS_FIS_CONFIGURATION_LOCATION", "AWS_LAMBDA_EXEC_WRAPPER")
ALARM_OF = {
    names.EXPERIMENT_PROCESS_TASK_PARTIAL_FAILURE: "ProcessTaskErrorRate",
    names.EXPERIMENT_PROCESS_TASK_TOTAL_FAILURE: "DeadLetteredTasks",
    names.EXPERIMENT_START_EXECUTION_DELAY: "TaskQueueOldestMessage",
    names.EXPERIMENT_SUBMIT_TASK_ERRORS: "ApiServerErrorRate",
}


def _templates(stack) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Tags"]["Name"]: r["Properties"]
        for r in stack.of_type("AWS::FIS::ExperimentTemplate").values()
    }


def _alarm_id(stack, suffix: str) -> str:
    [lid] = [
        lid
        for lid, r in stack.of_type("AWS::CloudWatch::Alarm").items()
        if r["Properties"]["AlarmName"] == f"{stack.stack_name}-{suffix}"
    ]
    return lid


def _bucket(stack) -> tuple[str, dict[str, Any]]:
    return stack.only("AWS::S3::Bucket")


def _experiment_role_id(stack) -> str:
    [lid] = [
        lid
        for lid, r in stack.of_type("AWS::IAM::Role").items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "fis.amazonaws.com"}
    ]
    return lid


# -- off by default -------------------------------------------------------------------------


def test_without_the_context_there_is_no_chaos(stack):
    # Given the default synth  Then no experiment, no bucket, no FIS role
    for resource_type in FIS_TYPES:
        assert stack.of_type(resource_type) == {}, resource_type
    # And no function carries the extension or its environment
    for spec in names.ALL_FUNCTIONS:
        props = stack.props(stack.function_id(spec))
        assert not set(FIS_ENV) & set(props["Environment"]["Variables"]), spec.key
        assert len(props["Layers"]) == 1  # Powertools only
    assert not any(
        "fis" in str(p.get("Default", "")) for p in stack.template["Parameters"].values()
    )


# -- the experiments ------------------------------------------------------------------------


def test_there_is_one_template_per_experiment(chaos_stack):
    assert sorted(_templates(chaos_stack)) == sorted(
        [
            "process-task-partial-failure",
            "process-task-total-failure",
            "start-execution-delay",
            "submit-task-errors",
        ]
    )


@pytest.mark.parametrize("experiment", experiments.EXPERIMENTS, ids=lambda e: e.name)
def test_each_experiment_targets_its_function_by_arn(chaos_stack, experiment):
    template = _templates(chaos_stack)[experiment.name]
    # Then its description is its name, and it names one target: the function, by ARN, all of it
    assert template["Description"] == experiment.name
    [(target_name, target)] = template["Targets"].items()
    assert target == {
        "ResourceType": "aws:lambda:function",
        "ResourceArns": [{"Fn::GetAtt": [chaos_stack.function_id(experiment.function), "Arn"]}],
        "SelectionMode": "ALL",
    }
    # And its one action acts on that target under the aws:lambda actions' key, `Functions`
    [action] = template["Actions"].values()
    assert action["Targets"] == {"Functions": target_name}
    assert "StartAfter" not in action


@pytest.mark.parametrize(
    ("name", "function", "action_id", "parameters"),
    [
        (
            names.EXPERIMENT_PROCESS_TASK_PARTIAL_FAILURE,
            names.PROCESS_TASK,
            "aws:lambda:invocation-error",
            {"duration": "PT10M", "invocationPercentage": "20", "preventExecution": "true"},
        ),
        (
            names.EXPERIMENT_PROCESS_TASK_TOTAL_FAILURE,
            names.PROCESS_TASK,
            "aws:lambda:invocation-error",
            {"duration": "PT10M", "invocationPercentage": "100", "preventExecution": "true"},
        ),
        (
            names.EXPERIMENT_START_EXECUTION_DELAY,
            names.START_EXECUTION,
            "aws:lambda:invocation-add-delay",
            {
                "duration": "PT10M",
                "invocationPercentage": "100",
                "startupDelayMilliseconds": "10000",
            },
        ),
        (
            names.EXPERIMENT_SUBMIT_TASK_ERRORS,
            names.SUBMIT_TASK,
            "aws:lambda:invocation-http-integration-response",
            {
                "duration": "PT10M",
                "invocationPercentage": "25",
                "preventExecution": "true",
                "statusCode": "503",
                "contentTypeHeader": "application/json",
            },
        ),
    ],
)
def test_each_experiments_action_and_parameters(chaos_stack, name, function, action_id, parameters):
    template = _templates(chaos_stack)[name]
    [action] = template["Actions"].values()
    assert action["ActionId"] == action_id
    assert action["Parameters"] == parameters
    [target] = template["Targets"].values()
    assert target["ResourceArns"] == [{"Fn::GetAtt": [chaos_stack.function_id(function), "Arn"]}]


def test_action_parameters_are_within_the_fis_reference_ranges(chaos_stack):
    # FIS actions reference: invocationPercentage 1-100, startupDelayMilliseconds 0-900000,
    # statusCode 000-999, preventExecution a boolean string, duration ISO 8601
    for template in _templates(chaos_stack).values():
        for action in template["Actions"].values():
            params = action["Parameters"]
            assert params["duration"].startswith("PT")
            assert 1 <= int(params["invocationPercentage"]) <= 100
            if "startupDelayMilliseconds" in params:
                delay = int(params["startupDelayMilliseconds"])
                assert 0 <= delay <= 900_000
                # a delay, not a timeout: under start-execution's 30 s timeout
                assert delay < names.START_EXECUTION.timeout_seconds * 1000
            if "preventExecution" in params:
                assert params["preventExecution"] in {"true", "false"}
            if "statusCode" in params:
                assert 500 <= int(params["statusCode"]) <= 599


@pytest.mark.parametrize("name", sorted(ALARM_OF))
def test_each_experiment_stops_on_its_alarm(chaos_stack, name):
    template = _templates(chaos_stack)[name]
    assert template["StopConditions"] == [
        {
            "Source": "aws:cloudwatch:alarm",
            "Value": {"Fn::GetAtt": [_alarm_id(chaos_stack, ALARM_OF[name]), "Arn"]},
        }
    ]


def test_experiments_log_to_their_own_log_group(chaos_stack):
    [(group_id, group)] = [
        (lid, r)
        for lid, r in chaos_stack.of_type("AWS::Logs::LogGroup").items()
        if r["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/fis/")
    ]
    assert group["Properties"]["RetentionInDays"] == 30
    for template in _templates(chaos_stack).values():
        assert template["LogConfiguration"] == {
            "CloudWatchLogsConfiguration": {"LogGroupArn": {"Fn::GetAtt": [group_id, "Arn"]}},
            "LogSchemaVersion": 2,
        }
        assert template["RoleArn"] == {"Fn::GetAtt": [_experiment_role_id(chaos_stack), "Arn"]}


# -- the extension on the targeted functions ------------------------------------------------


def _location(stack) -> dict[str, Any]:
    bucket_id, _ = _bucket(stack)
    return {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": bucket_id}, "/FisConfigs/"],
        ]
    }


def _configurations(stack) -> dict[str, Any]:
    bucket_id, _ = _bucket(stack)
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/FisConfigs/*"]]}


@pytest.mark.parametrize("spec", names.ALL_FUNCTIONS, ids=lambda s: s.key)
def test_targeted_functions_carry_the_extension_and_no_other_does(chaos_stack, spec):
    props = chaos_stack.props(chaos_stack.function_id(spec))
    env = props["Environment"]["Variables"]
    [fis_parameter] = [
        lid
        for lid, p in chaos_stack.template["Parameters"].items()
        if p.get("Default") == fis_extension_parameter("arm64")
    ]
    assert chaos_stack.template["Parameters"][fis_parameter]["Type"] == (
        "AWS::SSM::Parameter::Value<String>"
    )
    if spec in experiments.TARGETED_FUNCTIONS:
        # use-lambda-actions.html: the layer, the folder's S3 ARN, the wrapper
        assert {"Ref": fis_parameter} in props["Layers"]
        assert env["AWS_FIS_CONFIGURATION_LOCATION"] == _location(chaos_stack)
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/aws-fis/bootstrap"
        assert env["AWS_FIS_POLL_MAX_WAIT_MILLISECONDS"] == "2000"
    else:
        assert {"Ref": fis_parameter} not in props["Layers"]
        assert not set(FIS_ENV) & set(env)


@pytest.mark.parametrize("spec", experiments.TARGETED_FUNCTIONS, ids=lambda s: s.key)
def test_targeted_functions_may_read_the_configuration_folder_only(chaos_stack, spec):
    bucket_id, _ = _bucket(chaos_stack)
    statements = chaos_stack.policy_statements_of_role(chaos_stack.role_id_of_function(spec))
    s3 = [s for s in statements if any(a.startswith("s3:") for a in chaos_stack.actions_of(s))]
    assert sorted(s3, key=lambda s: str(s["Action"])) == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": _configurations(chaos_stack)},
        {
            "Action": "s3:ListBucket",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [bucket_id, "Arn"]},
            "Condition": {"StringLike": {"s3:prefix": ["FisConfigs/*"]}},
        },
    ]


# -- the bucket and the role ----------------------------------------------------------------


def test_configuration_bucket_is_private_encrypted_and_tls_only(chaos_stack):
    bucket_id, props = _bucket(chaos_stack)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 1
    [policy] = chaos_stack.of_type("AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_experiment_role_trusts_only_this_accounts_fis_experiments(chaos_stack):
    role = chaos_stack.props(_experiment_role_id(chaos_stack))
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "fis.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "experiment/*" in str(trust["Condition"]["ArnLike"]["aws:SourceArn"])
    assert "ManagedPolicyArns" not in role


def test_experiment_role_holds_exactly_the_documented_permissions(chaos_stack):
    statements = chaos_stack.policy_statements_of_role(_experiment_role_id(chaos_stack))
    granted = {
        action: chaos_stack.resources_of(s)
        for s in statements
        for action in chaos_stack.actions_of(s)
    }
    targeted = [
        {"Fn::GetAtt": [chaos_stack.function_id(spec), "Arn"]}
        for spec in experiments.TARGETED_FUNCTIONS
    ]
    assert granted.pop("s3:PutObject") == [_configurations(chaos_stack)]
    assert granted.pop("s3:DeleteObject") == [_configurations(chaos_stack)]
    assert sorted(map(str, granted.pop("lambda:GetFunction"))) == sorted(map(str, targeted))
    # What supports no resource-level permission: target resolution and log delivery
    assert granted == {
        action: ["*"]
        for action in (
            "tag:GetResources",
            "logs:CreateLogDelivery",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
        )
    }
    assert all(s["Effect"] == "Allow" for s in statements)


def test_chaos_outputs(chaos_stack):
    outputs = chaos_stack.template["Outputs"]
    assert outputs[names.OUT_CHAOS_CONFIG_BUCKET]["Value"] == {"Ref": _bucket(chaos_stack)[0]}
    assert names.OUT_CHAOS_LOG_GROUP in outputs


# -- compliance with chaos on ---------------------------------------------------------------


def test_cdk_nag_is_clean_with_chaos_on(chaos_stack):
    report = chaos_stack.validation_report
    for plugin in report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]
    [nag] = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    acknowledged = {f["acknowledgedId"] for f in nag["suppressedViolations"]}
    # each chaos wildcard acknowledged by name, never blanket
    assert any("FisConfigs/*" in ack for ack in acknowledged)
    assert "AwsSolutions::AwsSolutions-S1" in acknowledged


def test_cfn_lint_is_clean_with_chaos_on(chaos_stack):
    template = Path(chaos_stack.outdir) / f"{names.STACK_ID}.template.json"
    matches = lint_file(template, ManualArgs(regions=["us-east-1"], ignore_checks=["W3005"]))
    assert [str(m) for m in matches] == []
