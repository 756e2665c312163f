"""Lambda: the configuration changes made while the cloud ran (UpdateFunctionConfiguration,
which `ftb set-env` uses), kept as differences from the template's configuration.

Saving differences, not whole configurations, lets a template change (a new variable, a new
timeout) apply at the next start while the changes made by hand stay on top of it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ftb.localcloud.lambda_runtime import LambdaRuntime


def baseline(runtime: LambdaRuntime) -> dict[str, dict[str, Any]]:
    """Each function's configuration as provisioned from the template."""
    return {
        spec.name: {
            "environment": dict(spec.environment),
            "timeoutSeconds": spec.timeout_seconds,
            "memoryMb": spec.memory_mb,
        }
        for spec in runtime.functions()
    }


def capture(runtime: LambdaRuntime, base: dict[str, dict[str, Any]]) -> dict[str, Any]:
    changes: dict[str, dict[str, Any]] = {}
    for spec in runtime.functions():
        before = base.get(spec.name)
        if before is None:
            continue  # added after the start (hot reload): its configuration is the template's
        change: dict[str, Any] = {}
        old_env: dict[str, str] = before["environment"]
        set_ = {k: v for k, v in spec.environment.items() if old_env.get(k) != v}
        removed = sorted(set(old_env) - set(spec.environment))
        if set_ or removed:
            change["environment"] = {"set": set_, "removed": removed}
        if spec.timeout_seconds != before["timeoutSeconds"]:
            change["timeoutSeconds"] = spec.timeout_seconds
        if spec.memory_mb != before["memoryMb"]:
            change["memoryMb"] = spec.memory_mb
        if change:
            changes[spec.name] = change
    return {"changes": changes}


def restore(document: dict[str, Any], runtime: LambdaRuntime) -> list[str]:
    """Apply the saved changes to the functions that still exist; returns what was changed."""
    known = {spec.name: spec for spec in runtime.functions()}
    applied = []
    for name, change in sorted(document["changes"].items()):
        spec = known.get(name)
        if spec is None:
            continue  # the function left the template: nothing to apply it to
        environment = dict(spec.environment)
        env_change = change.get("environment") or {"set": {}, "removed": []}
        environment.update(env_change["set"])
        for key in env_change["removed"]:
            environment.pop(key, None)
        updated = dataclasses.replace(
            spec,
            environment=environment,
            timeout_seconds=change.get("timeoutSeconds", spec.timeout_seconds),
            memory_mb=change.get("memoryMb", spec.memory_mb),
        )
        runtime.register(updated)
        applied.append(name)
    return applied


def describe(document: dict[str, Any]) -> list[str]:
    lines = []
    for name, change in sorted(document["changes"].items()):
        parts = []
        env = change.get("environment")
        if env:
            parts += [f"{k}={v}" for k, v in sorted(env["set"].items())]
            parts += [f"-{k}" for k in env["removed"]]
        if "timeoutSeconds" in change:
            parts.append(f"timeout {change['timeoutSeconds']:g} s")
        if "memoryMb" in change:
            parts.append(f"memory {change['memoryMb']} MB")
        lines.append(f"{name}: {', '.join(parts)}")
    return lines
