"""`ftb local` and `ftb outputs` as a user runs them: start, read the outputs, stop cleanly."""

from __future__ import annotations

import json
import os
import re
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


def shell(command: str, env: dict[str, str] | None = None) -> str:
    """A pasted command line, run by bash; its output."""
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


def readme_commands(marker: str) -> list[str]:
    """The curl commands of the README's bash block that holds `marker`, one per command
    (continuation lines joined, comments dropped)."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in text.split("```bash\n")[1:]]
    [block] = [block for block in blocks if marker in block and "curl" in block]
    commands: list[str] = []
    for line in block.replace("\\\n", " ").splitlines():
        if line.startswith("curl"):
            commands.append(line.split("    #", 1)[0])
        elif commands and not line.startswith("#"):
            commands[-1] += "\n" + line  # a multi-line quoted body
    return commands


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

        # (the state file is written before the banner is printed: wait for its last line)
        def banner_printed() -> str | None:
            text = local.log_file.read_text()
            return text if "Ctrl-C stops" in text else None

        banner = wait_for(banner_printed, 30, "the banner")
        tasks = local.outputs["TasksEndpoint"]
        assert tasks.startswith("http://127.0.0.1:") and tasks.endswith("/v1/tasks")
        assert f"-X POST {tasks}" in banner
        assert "Not emulated" in banner and "AWS::SNS::Topic" in banner
        assert re.search(r"CloudWatch alarms: \d+ evaluated every 60 s \(real time", banner)
        assert "not emulated: alarm actions" in banner

        # And `ftb outputs` prints the local outputs as JSON while it runs
        printed = ftb("outputs", "--state-file", str(local.state_file))
        assert printed.returncode == 0, printed.stderr
        # (with the task console's URL, which ftb local serves beside the stack)
        assert json.loads(printed.stdout) == {**local.outputs, **local.state["companions"]}
        assert local.state["companions"]["ConsoleUrl"].startswith("http://127.0.0.1:")
        assert f"console       {local.state['companions']['ConsoleUrl']}" in banner
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


def test_the_banners_and_the_readmes_curls_work_when_pasted(cloud: LocalCloudProcess) -> None:
    # Given the session cloud (apiAuth=iam, the default) and what its banner printed
    # When the banner's Try it curls and the README's are pasted (the README's with this
    # cloud's port)  Then the signed ones pass and the unsigned one is API Gateway's 403
    try_it = [
        line.strip()
        for line in cloud.log_file.read_text().splitlines()
        if line.startswith("  curl ")
    ]
    assert len(try_it) == 2 and all("--aws-sigv4" in line for line in try_it), try_it
    posted, read = (shell(line) for line in try_it)
    assert json.loads(posted)["taskId"] == "demo-1"  # 202, or 200 if a test sent it before
    assert json.loads(read)["taskId"] == "demo-1"
    api = cloud.outputs["ApiUrl"].rstrip("/").removesuffix("/v1")
    readme_id = f"readme-{uuid.uuid4().hex[:8]}0"
    answers = [
        shell(command.replace("http://127.0.0.1:3000", api).replace("demo-1", readme_id))
        for command in readme_commands("ftb-local:ftb-local-secret")
    ]
    assert json.loads(answers[0]) == {"taskId": readme_id, "status": "QUEUED"}
    assert json.loads(answers[1])["taskId"] == readme_id
    assert json.loads(answers[2])["message"] == "Missing Authentication Token"
    # And so does the original system's curl, signed as the README shows for AWS
    original_id = f"orig-{uuid.uuid4().hex[:8]}0"
    deployed = readme_commands("$AWS_SECRET_ACCESS_KEY")
    caller = {"AWS_ACCESS_KEY_ID": "ftb-local", "AWS_SECRET_ACCESS_KEY": "ftb-local-secret"}
    answers = [
        shell(
            command.replace("https://your-api-id.execute-api.us-east-1.amazonaws.com", api).replace(
                "task123", original_id
            ),
            caller,
        )
        for command in deployed
    ]
    assert json.loads(answers[0]) == {"taskId": original_id, "status": "QUEUED"}
    assert json.loads(answers[1])["taskId"] == original_id


def test_ftb_submit_and_status_sign_their_requests(cloud: LocalCloudProcess) -> None:
    # Given the session cloud, whose API requires SigV4
    env_file = str(cloud.state_file)
    prefix = f"cli-iam-{uuid.uuid4().hex[:6]}"
    # When 20 tasks are submitted and one is read, as a user does
    submitted = ftb(
        "submit", "--count", "20", "--prefix", prefix, "--json", "--state-file", env_file
    )
    status = ftb("status", f"{prefix}-0001", "--json", "--state-file", env_file)
    # Then every request was let in
    assert submitted.returncode == 0, submitted.stderr
    report = json.loads(submitted.stdout)
    assert (report["accepted"], report["rejected"]) == (20, 0), report
    assert status.returncode == 0, status.stderr
    [view] = json.loads(status.stdout)
    assert view["taskId"] == f"{prefix}-0001" and view["status"] in (
        "QUEUED",
        "RUNNING",
        "SUCCEEDED",
    )
