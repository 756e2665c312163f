"""The AWS CLI (v1, from PyPI) against a local cloud's endpoint, as a user pastes it.

Runs `python -m awscli` in a subprocess with fake credentials and `--endpoint-url`, so what is
checked is the CLI's own parsing of the endpoint's answers, not boto3's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else {}


def aws_cli(endpoint_url: str, region: str, *args: str, timeout: float = 60) -> CliResult:
    """`aws --endpoint-url URL --region REGION --output json ARGS...`; never raises on failure."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    env.pop("AWS_PROFILE", None)
    command = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint_url]
    command += ["--region", region, "--output", "json", *args]
    completed = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
