"""Each service is declared once, and every part reads the same table."""

from __future__ import annotations

import pytest

from ftb.localcloud import registry
from ftb.localcloud.endpoint.refusals import emulated_services
from ftb.localcloud.provision import PROVISIONERS


def test_every_provisioned_type_belongs_to_exactly_one_service() -> None:
    # Given the provisioners the provision modules define, and those the services declare
    # Then each type is declared by one service, and none of provision/ is left out
    for kind in registry.provisioners():
        owners = [s.name for s in registry.services() if kind in s.provisioners]
        assert len(owners) == 1, (kind, owners)
    assert PROVISIONERS.items() <= registry.provisioners().items()


def test_the_saved_services_capture_step_functions_first_and_have_distinct_keys() -> None:
    # Given what is persisted
    saved = registry.persisted()
    keys = [p.key for p in saved]
    # Then each has its own key, and executions are captured first (restored last)
    assert len(set(keys)) == len(keys)
    assert keys[0] == "stepfunctions"
    assert set(keys) == {"stepfunctions", "sqs", "dynamodb", "logs", "functions"}


def test_the_refusals_vet_the_declared_services() -> None:
    # Given the declarations
    # Then the endpoint vets exactly the services that name moto's responses
    assert set(emulated_services()) == {
        "sqs",
        "dynamodb",
        "states",
        "logs",
        "lambda",
        "cloudformation",
        "monitoring",
        "fis",
    }
    assert registry.moto_not_consulted() == {"lambda", "cloudformation", "monitoring", "fis"}
    assert registry.rest_services() == {"lambda", "fis"}


def test_stateful_types_are_those_a_reload_adopts() -> None:
    # Given the declarations
    # Then what holds data is the queues, tables, state machines and log groups
    assert registry.stateful_types() == {
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::StepFunctions::StateMachine",
        "AWS::Logs::LogGroup",
    }
    assert registry.owner("AWS::SQS::Queue") is registry.service("sqs")
    assert registry.owner("AWS::ApiGateway::Method") is registry.service("apigateway")
    assert registry.owner("AWS::SNS::Topic") is None


def test_a_service_declared_twice_is_refused() -> None:
    # Given a declared service
    existing = registry.service("sqs")
    # When it is declared again
    # Then the registry refuses it, and the table is unchanged
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(existing)
    assert registry.service("sqs") is existing
