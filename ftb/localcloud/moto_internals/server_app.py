"""moto's server application, its request handler, and the switch that runs state machines."""

from __future__ import annotations

import logging
from typing import Any

_ENGINE_LOGGER = "moto.stepfunctions.parser"


def new_application() -> Any:
    """moto's WSGI application (every service, dispatched by host and request)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def quiet_request_handler() -> type:
    """moto's request handler class without a log line per request (one line per request
    would drown the functions' own logs)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class _RequestHandler(MotoRequestHandler):  # type: ignore[misc]
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    return _RequestHandler


def step_functions_section() -> Any:
    """moto's Step Functions configuration section as it is now (None when unset)."""
    from moto.core.config import default_user_config

    return default_user_config.get("stepfunctions")


def set_step_functions_section(section: Any) -> None:
    """Put a section back (None: remove it)."""
    from moto.core.config import default_user_config

    if section is None:
        default_user_config.pop("stepfunctions", None)  # type: ignore[misc]
    else:
        default_user_config["stepfunctions"] = section


def enable_step_functions_execution() -> None:
    """Make moto's Step Functions run state machines (its parser backend), process-wide."""
    # Replace the section (not mutate it): mock_aws restores a shallow copy of this dict.
    set_step_functions_section({"execute_state_machine": True})
    # The engine logs every Fail state and caught task error at ERROR level; here a failing
    # task is the normal case and the execution history holds the details. Unless someone
    # configured that logger, keep it quiet.
    engine_log = logging.getLogger(_ENGINE_LOGGER)
    if engine_log.level == logging.NOTSET:
        engine_log.setLevel(logging.CRITICAL)
