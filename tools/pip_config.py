"""pip's registry configuration on this machine, translated for uv.

uv reads none of pip's configuration, so an install through uv would ignore the mirror, the
extra indexes, the local wheel folders and the certificate bundle that pip is set up with. This
reads what pip itself resolves (`pip config list`: every config file plus the PIP_* variables,
which it lists as `:env:.<name>`) and gives the uv settings of the same meaning
(https://docs.astral.sh/uv/reference/environment/, https://pip.pypa.io/en/stable/topics/configuration/).
A UV_* variable already set wins: it is the more specific instruction."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping

# pip's sections that apply to `pip install`, weakest first; the PIP_* variables win over files.
_SECTIONS = ("global", "install", ":env:")


def parse_config_list(text: str) -> dict[str, str]:
    """`pip config list` output (`section.key='value'` per line) as {key: value}, the
    stronger section overriding the weaker one; keys of other commands are left out."""
    found: dict[str, dict[str, str]] = {section: {} for section in _SECTIONS}
    for line in text.splitlines():
        name, equals, raw = line.partition("=")
        section, dot, key = name.rpartition(".")
        if not (equals and dot) or section not in found:
            continue
        try:
            value = shlex.split(raw)[0] if raw.strip() else ""
        except (ValueError, IndexError):  # not quoted as pip quotes it: take it as written
            value = raw.strip().strip("'\"")
        found[section][key.strip().replace("_", "-")] = value
    merged: dict[str, str] = {}
    for section in _SECTIONS:
        merged.update(found[section])
    return merged


def read(python: str = sys.executable) -> dict[str, str]:
    """pip's effective install settings as `python -m pip` sees them ({} without pip)."""
    try:
        listed = subprocess.run(
            [python, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return parse_config_list(listed.stdout) if listed.returncode == 0 else {}


def _words(value: str) -> list[str]:
    # pip takes lists as whitespace-separated words, one or more per line.
    return value.split()


def _on(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def uv_environment(pip: Mapping[str, str], current: Mapping[str, str]) -> dict[str, str]:
    """The variables to add to `current` so uv uses pip's registries; never one `current` has."""
    wanted: dict[str, str] = {}
    if pip.get("index-url"):
        wanted["UV_INDEX_URL"] = pip["index-url"]
    extra = _words(pip.get("extra-index-url", ""))
    if extra:
        wanted["UV_EXTRA_INDEX_URL"] = " ".join(extra)
        # pip takes the best match across every index; uv by default takes the first index
        # that knows the name (extra ones before the default), which fails when a partial
        # mirror lacks the locked version. unsafe-best-match is pip's behaviour.
        wanted["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    links = _words(pip.get("find-links", ""))
    if links:
        wanted["UV_FIND_LINKS"] = ",".join(links)  # uv's list is comma-separated
    if pip.get("cert"):
        wanted["SSL_CERT_FILE"] = pip["cert"]
    if pip.get("client-cert"):
        wanted["SSL_CLIENT_CERT"] = pip["client-cert"]
    hosts = _words(pip.get("trusted-host", ""))
    if hosts:
        wanted["UV_INSECURE_HOST"] = " ".join(hosts)
    timeout = pip.get("timeout") or pip.get("default-timeout")
    if timeout:
        wanted["UV_HTTP_TIMEOUT"] = timeout
    if pip.get("proxy"):
        wanted["HTTPS_PROXY"] = pip["proxy"]
        wanted["HTTP_PROXY"] = pip["proxy"]
    if _on(pip.get("isolated", "")):
        return {}  # pip was told to ignore its configuration: so does this
    return {key: value for key, value in wanted.items() if key not in current}


def uv_arguments(pip: Mapping[str, str]) -> list[str]:
    """What has no uv variable in every uv command: `--no-index`."""
    return ["--no-index"] if _on(pip.get("no-index", "")) else []


def for_uv(python: str = sys.executable) -> tuple[dict[str, str], list[str]]:
    """The environment (os.environ plus the translation) and the extra arguments for uv."""
    pip = read(python)
    return {**os.environ, **uv_environment(pip, os.environ)}, uv_arguments(pip)
