"""The local AWS endpoint, in process: what it changes process-wide is undone when it stops.

moto's Step Functions engine is switched on for the whole process (a config dict) and its
callbacks find the endpoint through MOTO_PORT; a test suite starts endpoints in process, so
the tests after them must find moto's defaults again (a mock_aws without explicit config would
otherwise route Step Functions calls to the executing backend, which holds other machines).
"""

from __future__ import annotations

import os

import pytest
from moto.core.config import default_user_config

from ftb.localcloud.endpoint import AwsEndpoint


def test_stopping_the_last_endpoint_restores_moto_config_and_moto_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given moto's defaults: the classic (not executing) Step Functions backend, no MOTO_PORT
    monkeypatch.delenv("MOTO_PORT", raising=False)
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": False})
    before = default_user_config["stepfunctions"]

    # When two endpoints start in this process
    first, second = AwsEndpoint(None, port=0), AwsEndpoint(None, port=0)
    first.start()
    try:
        second.start()
        # Then the engine runs and calls back to the newest one
        assert default_user_config["stepfunctions"] == {"execute_state_machine": True}
        assert os.environ["MOTO_PORT"] == str(second.port)
        # When one stops / Then the other still has the engine
        second.stop()
        assert default_user_config["stepfunctions"] == {"execute_state_machine": True}
    finally:
        second.stop()
        first.stop()

    # And once the last one stopped, the process is as it was
    assert default_user_config["stepfunctions"] is before
    assert "MOTO_PORT" not in os.environ
