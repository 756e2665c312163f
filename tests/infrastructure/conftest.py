"""Synthesize the stack once per test session (synth takes seconds) and share the result.

Synthesis runs in-process through `infra.app.build_app`, exactly as `make synth` does, with the
cdk-nag plugin attached: an unacknowledged finding fails the synth and so every test here.
Nothing reaches AWS: the Powertools layer ARN is a deploy-time SSM parameter, not a lookup.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions, cx_api

from infra import names
from infra.app import build_app

ALARM_EMAIL = "ops@example.com"
# Only what differs from cdk.json's defaults: the e-mail subscription is optional.
TEST_CONTEXT = {names.CTX_ALARM_EMAIL: ALARM_EMAIL}


@dataclass
class SynthesizedStack:
    outdir: Path
    stack_name: str
    template: dict[str, Any]
    assembly: cx_api.CloudAssembly
    context: dict[str, Any]
    _assertions: assertions.Template | None = field(default=None, repr=False)

    @property
    def assertions(self) -> assertions.Template:
        if self._assertions is None:
            self._assertions = assertions.Template.from_json(self.template)
        return self._assertions

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template["Resources"])

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    def props(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resources[logical_id].get("Properties", {}))

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        logical_id, resource = next(iter(found.items()))
        return logical_id, dict(resource.get("Properties", {}))

    def function_id(self, spec: names.FunctionSpec) -> str:
        wanted = spec.function_name(self.stack_name)
        matches = [
            lid
            for lid, r in self.of_type("AWS::Lambda::Function").items()
            if r["Properties"].get("FunctionName") == wanted
        ]
        assert len(matches) == 1, f"no single function named {wanted}"
        return matches[0]

    def role_id_of_function(self, spec: names.FunctionSpec) -> str:
        role = self.props(self.function_id(spec))["Role"]
        return str(role["Fn::GetAtt"][0])

    def policy_statements_of_role(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement of every AWS::IAM::Policy attached to the role."""
        statements: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        return statements

    def queue_id(self, queue_name_suffix: str) -> str:
        wanted = f"{self.stack_name}-{queue_name_suffix}"
        matches = [
            lid
            for lid, r in self.of_type("AWS::SQS::Queue").items()
            if r["Properties"].get("QueueName") == wanted
        ]
        assert len(matches) == 1, f"no single queue named {wanted}"
        return matches[0]

    @property
    def task_queue_id(self) -> str:
        return self.queue_id("task-queue")

    @property
    def dead_letter_queue_id(self) -> str:
        return self.queue_id("dead-letter-queue")

    @staticmethod
    def actions_of(statement: dict[str, Any]) -> set[str]:
        action = statement["Action"]
        return {action} if isinstance(action, str) else set(action)

    @staticmethod
    def resources_of(statement: dict[str, Any]) -> list[Any]:
        resource = statement["Resource"]
        return resource if isinstance(resource, list) else [resource]

    @property
    def validation_report(self) -> dict[str, Any]:
        return dict(json.loads((self.outdir / "validation-report.json").read_text()))


def _synthesize(
    tmp_path_factory: pytest.TempPathFactory, context: dict[str, Any]
) -> SynthesizedStack:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
    outdir = tmp_path_factory.mktemp("cdk.out")
    assembly = build_app(context, outdir=str(outdir)).synth()
    stack_name = names.DEFAULT_STACK_NAME
    template = json.loads((outdir / f"{names.STACK_ID}.template.json").read_text())
    return SynthesizedStack(
        outdir=outdir,
        stack_name=stack_name,
        template=template,
        assembly=assembly,
        context=dict(context),
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """Given the app as `make synth` builds it (plus an alarm e-mail), synthesized once."""
    return _synthesize(tmp_path_factory, TEST_CONTEXT)


@pytest.fixture(scope="session")
def chaos_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """Given the app as `cdk synth -c chaos=true` builds it: the FIS experiments added."""
    return _synthesize(tmp_path_factory, {**TEST_CONTEXT, names.CTX_CHAOS: "true"})
