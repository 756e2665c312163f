"""The local cloud's state file (`.ftb/local.json`): how other commands find a running local cloud.

`ftb local` writes it atomically once ready and removes it when it stops; the operator
commands and `ftb outputs` read it. This module is the one contract between the local cloud
and the operator commands (the two packages never import each other): the typed document,
the one path resolver and the one liveness check.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ftb import private_files

STATE_FILE_ENV = "FTB_STATE_FILE"
DEFAULT_STATE_FILE = Path(".ftb") / "local.json"
PROJECT_MARKER = "cdk.json"


class StateFileError(Exception):
    """The file exists but is not a state file (unreadable, not JSON, missing fields)."""


class LocalCredentials(BaseModel):
    """The local cloud's AWS principal (fake: valid on this machine only)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    access_key_id: str = Field(alias="accessKeyId", min_length=1)
    secret_access_key: str = Field(alias="secretAccessKey", min_length=1)


class LocalCloudState(BaseModel):
    """What a running local cloud publishes about itself."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    pid: int
    stack_name: str = Field(alias="stackName", min_length=1)
    region: str = Field(min_length=1)
    endpoint_url: str = Field(alias="endpointUrl", min_length=1)
    api_url: str | None = Field(default=None, alias="apiUrl")
    started_at: str | None = Field(default=None, alias="startedAt")
    template: str | None = None
    # The stack's outputs, with the local values (execute-api URLs point at the local API).
    outputs: dict[str, str] = Field(default_factory=dict)
    # logical id -> physical name
    functions: dict[str, str] = Field(default_factory=dict)
    log_groups: list[str] = Field(default_factory=list, alias="logGroups")
    queues: dict[str, str] = Field(default_factory=dict)
    state_machines: dict[str, str] = Field(default_factory=dict, alias="stateMachines")
    tables: dict[str, str] = Field(default_factory=dict)
    faults_url: str | None = Field(default=None, alias="faultsUrl")
    # Who may call the local API: the credentials AWS_IAM methods accept (SigV4), and the
    # API keys generated at this start (key id -> value; the ApiKeyId output names one).
    credentials: LocalCredentials | None = None
    api_keys: dict[str, str] = Field(default_factory=dict, alias="apiKeys")
    # Companion servers started beside the cloud (ftb/localcloud/companions.py): output -> URL,
    # e.g. ConsoleUrl; `ftb outputs` prints them with the stack's outputs.
    companions: dict[str, str] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"


def project_root(start: Path | None = None) -> Path:
    """The nearest directory holding cdk.json (the CDK app's root), else the start."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_MARKER).is_file():
            return candidate
    return here


def state_file_path(explicit: Path | None = None, start: Path | None = None) -> Path:
    """--state-file, else $FTB_STATE_FILE, else `.ftb/local.json` under the project root."""
    if explicit is not None:
        return explicit
    if os.environ.get(STATE_FILE_ENV):
        return Path(os.environ[STATE_FILE_ENV])
    return project_root(start) / DEFAULT_STATE_FILE


def read(path: Path) -> LocalCloudState | None:
    """The state file's document; None when there is no file, StateFileError when it is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateFileError(f"{path} is unreadable: {error}") from None
    try:
        return LocalCloudState.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'document'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise StateFileError(f"{path} is not a local cloud state file ({problems})") from None


def is_running(state: LocalCloudState) -> bool:
    """The one liveness check: its process exists and its AWS endpoint accepts connections."""
    return _process_exists(state.pid) and _port_open(state.endpoint_url)


def running(path: Path) -> LocalCloudState | None:
    """The state of the local cloud running with this state file, else None."""
    try:
        state = read(path)
    except StateFileError:
        return None
    return state if state is not None and is_running(state) else None


def write(path: Path, state: LocalCloudState) -> None:
    """Atomically: a reader sees the old document or the new one, never half of one. It holds
    credentials and API keys: readable by the user only (ftb/private_files.py)."""
    private_files.make_directory(path.parent)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    private_files.write_bytes(staging, state.to_json().encode("utf-8"))
    staging.replace(path)


def remove(path: Path, pid: int) -> None:
    """Remove the state file if process `pid` wrote it (never another cloud's)."""
    with contextlib.suppress(StateFileError, OSError):
        state = read(path)
        if state is not None and state.pid == pid:
            path.unlink()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
