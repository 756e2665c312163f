"""The open API mode (`-c apiAuth=none`, the ops cloud): only when asked for by name, and then
anyone is let in."""

from __future__ import annotations

import uuid

from infra import names
from tests.support.local_cloud import LocalCloudProcess, http


def test_the_open_api_mode_lets_anyone_in_and_says_so(on_ops_cloud: LocalCloudProcess) -> None:
    # Given the ops cloud, started with `-c apiAuth=none`
    assert on_ops_cloud.outputs[names.OUT_API_AUTHORIZATION] == names.API_AUTH_NONE
    # When a request carries no credential at all  Then it is let in
    task_id = f"open-{uuid.uuid4().hex[:8]}0"
    body = {"taskId": task_id, "payload": {}}
    assert http("POST", on_ops_cloud.tasks_endpoint, body, signed=False).status == 202
    # And the banner says the API is open, and its Try it curl carries nothing
    banner = on_ops_cloud.log_file.read_text()
    assert "API auth      none: the API is open" in banner
    assert "--aws-sigv4" not in banner and "x-api-key" not in banner
