"""Who can reach the local cloud: a warning when it listens beyond this machine.

The AWS endpoint takes any credentials (it checks no signature): listening on loopback, only
this machine's users reach it. `--host 0.0.0.0`, a LAN address or a host name opens it to
anyone who can reach that interface, who can then read and change every queue, table,
execution, log and function (and the functions' environment, API settings included).
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`; everything else (0.0.0.0, "", a LAN address, any
    other name, which may resolve anywhere) is not."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warning(host: str, endpoint_url: str) -> str | None:
    """The banner's one line when `--host` is not loopback; None when it is."""
    if is_loopback(host):
        return None
    return (
        f"WARNING: listening on {host or 'every interface'}: the AWS endpoint "
        f"({endpoint_url}) has no authentication, so anyone who can reach this host can read "
        "and change every queue, table, execution and function. Use --host 127.0.0.1 unless "
        "that is what you want."
    )
