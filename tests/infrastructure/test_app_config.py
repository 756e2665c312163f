"""The app's context values: defaults, overrides, and refusal of bad values (no synth)."""

from __future__ import annotations

import pytest

from infra import names
from infra.app import project_context
from infra.config import StackConfig


def test_defaults_without_context():
    config = StackConfig.from_context({}.get)
    assert config == StackConfig(
        stack_name="FaultTolerantBackend",
        alarm_email=None,
        failure_rate="0.3",
        failure_seed=None,
        log_level="INFO",
        retain_table=True,
    )


def test_context_overrides():
    context = {
        names.CTX_STACK_NAME: "Ftb-dev",
        names.CTX_ALARM_EMAIL: "a@b.io",
        names.CTX_FAILURE_RATE: "0",
        names.CTX_FAILURE_SEED: "42",
        names.CTX_LOG_LEVEL: "debug",
        names.CTX_TABLE_REMOVAL: "destroy",
    }
    config = StackConfig.from_context(context.get)
    assert config.stack_name == "Ftb-dev"
    assert config.alarm_email == "a@b.io"
    assert config.failure_rate == "0"
    assert config.failure_seed == "42"
    assert config.log_level == "DEBUG"
    assert config.retain_table is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (names.CTX_ALARM_EMAIL, "not-an-address"),
        (names.CTX_FAILURE_RATE, "1.5"),
        (names.CTX_FAILURE_RATE, "thirty"),
        (names.CTX_LOG_LEVEL, "LOUD"),
        (names.CTX_TABLE_REMOVAL, "snapshot"),
        (names.CTX_CHAOS, "yes"),
    ],
)
def test_bad_context_value_fails_naming_it(key, value):
    with pytest.raises(ValueError, match=key):
        StackConfig.from_context({key: value}.get)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("false", False), ("true", True), ("TRUE", True), (True, True), (False, False)],
)
def test_chaos_is_off_unless_asked_for(value, expected):
    # Given `-c chaos=...` (a string) or a JSON boolean in cdk.json, or nothing
    context = {} if value is None else {names.CTX_CHAOS: value}
    # Then the FIS experiments are in the stack only when asked for
    assert StackConfig.from_context(context.get).chaos is expected


def test_cdk_json_runs_the_app_from_the_project_venv_and_sets_no_stack_values():
    # cdk.json holds the feature flags only; stack settings stay optional context
    context = project_context()
    assert "@aws-cdk/aws-iam:minimizePolicies" in context
    for key in (names.CTX_ALARM_EMAIL, names.CTX_FAILURE_SEED, names.CTX_STACK_NAME):
        assert key not in context
