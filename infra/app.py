"""The CDK app. `python -m infra.app` synthesizes into cdk.out/ with no CDK CLI needed.

`build_app(context)` builds the same app in-process for the tests and the local cloud.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra import names
from infra.config import StackConfig
from infra.stack import FaultTolerantBackendStack

CDK_JSON = names.REPO_ROOT / "cdk.json"
DEFAULT_OUTDIR = names.REPO_ROOT / "cdk.out"
# What the CDK CLI turns on, so `python -m infra.app` writes the same assembly as `cdk synth`:
# resources carry their asset path and construct path (the local cloud maps code by them).
CLI_DEFAULTS = {"aws:cdk:enable-asset-metadata": True, "aws:cdk:enable-path-metadata": True}


def project_context() -> dict[str, Any]:
    """cdk.json's context (feature flags and defaults), as the CDK CLI would pass it."""
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {}))


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None) -> App:
    """The app with its one stack and the cdk-nag AwsSolutions checks.

    Context: cdk.json, then whatever the CDK CLI passes (-c ...), then `context` wins.
    """
    merged = {**CLI_DEFAULTS, **project_context(), **(context or {})}
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = str(DEFAULT_OUTDIR)
    app = App(context=merged, outdir=outdir)
    config = StackConfig.from_context(app.node.try_get_context)
    FaultTolerantBackendStack(app, names.STACK_ID, config=config)
    Tags.of(app).add("project", "fault-tolerant-backend")
    # cdk-nag 3: a policy validation plugin; any unacknowledged finding fails synthesis.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
