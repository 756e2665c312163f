"""docs/local-cloud.md's operation counts are what `python -m ftb.localcloud.operation_coverage`
prints on the installed moto and botocore (an upgrade that changes them must update the doc)."""

from __future__ import annotations

import re
from pathlib import Path

from ftb.localcloud.operation_coverage import coverage

DOC = Path(__file__).resolve().parents[3] / "docs" / "local-cloud.md"
NAMES = {
    "states": "Step Functions",
    "logs": "CloudWatch Logs",
    "sqs": "SQS",
    "dynamodb": "DynamoDB",
    "lambda": "Lambda",
    "cloudformation": "CloudFormation",
    "monitoring": "CloudWatch",
    "fis": "FIS",
}


def test_the_documented_counts_are_the_computed_ones() -> None:
    # Given the counts computed from botocore's models and the refusal rule
    counts = {service: (len(a), len(r)) for service, (a, r) in coverage().items()}
    answered = sum(a for a, _ in counts.values())
    refused = sum(r for _, r in counts.values())
    # When the doc's paragraph is read (its line breaks do not matter)
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    # Then it states the same totals and the same figure for each service
    assert f"({answered + refused} operations" in text
    assert f"{answered} answered (by a handler or moto), {refused} refused" in text
    for service, (service_answered, service_refused) in counts.items():
        figure = f"{NAMES[service]} {service_answered}/{service_refused}"
        assert re.search(rf"[(,] ?{re.escape(figure)}[,)]", text), figure
