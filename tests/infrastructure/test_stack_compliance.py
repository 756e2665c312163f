"""cdk-nag (AwsSolutions) and cfn-lint on the synthesized stack: no unexplained finding."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

from infra import names

# CDK renders a function's dependency on its role both as DependsOn and as a GetAtt; cfn-lint
# flags the DependsOn as redundant. Harmless, and not ours to change.
IGNORED_CFN_LINT_RULES = ["W3005"]


def _awssolutions(stack):
    report = stack.validation_report
    [plugin] = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    return plugin


def test_cdk_nag_reports_no_unacknowledged_finding(stack):
    # Given the policy validation report cdk-nag wrote during the session's synth
    awssolutions = _awssolutions(stack)
    # Then nothing is left unacknowledged
    assert awssolutions["conclusion"] == "success"
    assert awssolutions["violations"] == []
    # And no other validation source (construct annotations) reports anything either
    for plugin in stack.validation_report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]


def test_every_acknowledgement_names_its_resource_and_gives_a_reason(stack):
    suppressed = _awssolutions(stack)["suppressedViolations"]
    assert suppressed  # the stack does acknowledge findings: X-Ray wildcards at least
    for finding in suppressed:
        # acknowledged on the resource reported or its own L2 construct, never stack-wide or
        # on a whole capability (stack/capability/resource: at least three path levels)
        at = finding["acknowledgedAt"]
        paths = [c["constructPath"] for c in finding["violatingConstructs"]]
        assert all(p == at or p.startswith(f"{at}/") for p in paths), finding["ruleName"]
        assert at.count("/") >= 2, (finding["ruleName"], at)
        assert len(finding["reason"]) >= 40, finding["ruleName"]


def test_no_blanket_wildcard_acknowledgement(stack):
    # IAM5 findings are acknowledged one wildcard at a time (Rule[Resource::...])
    suppressed = _awssolutions(stack)["suppressedViolations"]
    iam5 = [f["acknowledgedId"] for f in suppressed if "IAM5" in f["acknowledgedId"]]
    assert iam5 and all("[" in ack_id for ack_id in iam5)


def test_synthesis_left_no_warning_or_error(stack):
    # Given every message the constructs attached during synthesis
    artifact = stack.assembly.get_stack_by_name(stack.stack_name)
    problems = [
        (m.id, m.entry.type, m.entry.data)
        for m in artifact.messages
        if m.level.value in ("warning", "error")
    ]
    # Then there is none
    assert problems == []


def test_cfn_lint_is_clean(stack):
    # Given the synthesized template  When cfn-lint checks it for us-east-1
    template = Path(stack.outdir) / f"{names.STACK_ID}.template.json"
    matches = lint_file(
        template, ManualArgs(regions=["us-east-1"], ignore_checks=IGNORED_CFN_LINT_RULES)
    )
    # Then there is no error, warning or informational finding
    assert [str(m) for m in matches] == []
