"""A synthesized CloudFormation template: its resources, outputs, and where its assets are."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class TemplateError(Exception):
    """The template cannot be read or resolved (a broken template, not an unemulated type)."""


class _NoValue:
    """`AWS::NoValue`: the property or list item is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    depends_on: tuple[str, ...]
    condition: str | None


@dataclass
class Template:
    """One stack's template, with where its assets live (the cloud assembly directory)."""

    path: Path
    body: dict[str, Any]
    stack_name: str
    assets: dict[str, Path] = field(default_factory=dict)  # asset hash -> file or directory

    @property
    def asset_root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, Resource]:
        out = {}
        for logical_id, raw in (self.body.get("Resources") or {}).items():
            depends = raw.get("DependsOn") or ()
            out[logical_id] = Resource(
                logical_id=logical_id,
                type=str(raw.get("Type", "")),
                properties=raw.get("Properties") or {},
                metadata=raw.get("Metadata") or {},
                depends_on=(depends,) if isinstance(depends, str) else tuple(depends),
                condition=raw.get("Condition"),
            )
        return out

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Outputs") or {})

    def asset_path(self, asset_hash: str) -> Path | None:
        """The staged asset for a hash (from the assets manifest, or by its `asset.` name)."""
        if asset_hash in self.assets:
            return self.assets[asset_hash]
        matches = sorted(self.asset_root.glob(f"asset.{asset_hash}*"))
        return matches[0] if matches else None


def load_template(path: Path, stack_name: str | None = None) -> Template:
    """Read `<Stack>.template.json` and the assets manifest next to it."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot read template {path}: {error}") from error
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    name = stack_name or _stack_name_from_manifest(path) or path.name.split(".template.")[0]
    return Template(path=path, body=body, stack_name=name, assets=_assets(path))


def _stack_name_from_manifest(template_path: Path) -> str | None:
    manifest = template_path.parent / "manifest.json"
    try:
        artifacts = json.loads(manifest.read_text(encoding="utf-8")).get("artifacts", {})
    except (OSError, ValueError):
        return None
    for artifact in artifacts.values():
        props = artifact.get("properties") or {}
        if props.get("templateFile") == template_path.name:
            name = props.get("stackName")
            return str(name) if name else None
    return None


def _assets(template_path: Path) -> dict[str, Path]:
    """Asset hash -> staged path, from `<Stack>.assets.json` (absent when synthesized old-style)."""
    stem = template_path.name.split(".template.")[0]
    manifest = template_path.parent / f"{stem}.assets.json"
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError):
        return {}
    out = {}
    for asset_hash, entry in files.items():
        source = (entry.get("source") or {}).get("path")
        if source:
            out[asset_hash] = template_path.parent / source
    return out
