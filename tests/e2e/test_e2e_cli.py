"""`ftb local` and `ftb outputs` as a user runs them: start, read the outputs, stop cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.local_cloud import REPO_ROOT, LocalCloudProcess, alive, descendants, wait_for

# A hang guard only: a cold synth (cloud start-up) and every wait are bounded inside.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def ftb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftb.cli", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def port_free(url: str) -> bool:
    """Nothing listens, and a server could bind it again (with SO_REUSEADDR, as servers do:
    the closed connections' TIME_WAIT does not hold a port)."""
    address = (urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80)
    with socket.socket() as client:
        if client.connect_ex(address) == 0:
            return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def test_ftb_local_starts_prints_its_outputs_and_stops_cleanly(
    cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    # Given a synthesized app (the session cloud synthesized it: the cache is warm)
    local = LocalCloudProcess("lifecycle", [], tmp_path)

    # When `ftb local` starts on free ports
    local.start()
    try:
        local.wait_ready(timeout=120)
        # Then it is ready within seconds, and says where everything is
        assert local.ready_seconds < 60, local.ready_seconds
        banner = local.log_file.read_text()
        tasks = local.outputs["TasksEndpoint"]
        assert tasks.startswith("http://127.0.0.1:") and tasks.endswith("/v1/tasks")
        assert f"curl -sS -X POST {tasks}" in banner
        assert "Not emulated" in banner and "AWS::CloudWatch::Alarm" in banner

        # And `ftb outputs` prints the local outputs as JSON while it runs
        printed = ftb("outputs", "--state-file", str(local.state_file))
        assert printed.returncode == 0, printed.stderr
        assert json.loads(printed.stdout) == local.outputs
        assert local.outputs["TaskQueueUrl"].startswith(local.endpoint_url)

        # And a second instance on the same ports refuses to start, saying why
        clash = ftb(
            "local",
            "--endpoint-port",
            str(urlsplit(local.endpoint_url).port),
            "--state-file",
            str(tmp_path / "other.json"),
        )
        assert clash.returncode == 2
        assert "in use" in clash.stderr

        # And it runs a task (so that function workers exist)
        task_id = f"cli-{uuid.uuid4().hex[:8]}0"
        assert local.submit(task_id).status == 202
        local.wait_for_status(task_id, "SUCCEEDED")
        workers = descendants(local.pid)
        assert workers
    finally:
        # When it gets SIGTERM (Ctrl-C is the session clouds' SIGINT)
        assert local.process is not None
        if local.process.poll() is None:
            local.process.send_signal(signal.SIGTERM)
        code = local.process.wait(timeout=30)

    # Then it exits 0, leaves no process behind, frees its ports and removes its state file
    assert code == 0, local.log_tail()
    wait_for(lambda: not any(alive(pid) for pid in workers), 10, "every worker to end")
    assert port_free(local.endpoint_url)
    assert port_free(local.outputs["ApiUrl"])
    assert not local.state_file.exists()
    assert "ftb local: stopped." in local.log_file.read_text()

    # And `ftb outputs` says it is not running
    after = ftb("outputs", "--state-file", str(local.state_file))
    assert after.returncode == 2
    assert "not running" in after.stderr
