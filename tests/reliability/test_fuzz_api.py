"""schemathesis against the running local API, from api/openapi.yaml (the API's one description).

For each operation schemathesis runs its three phases: the documented examples, the coverage
cases (each rule at its boundary, each required part missing, each type wrong) and Hypothesis
fuzzing, positive and negative. Every answer must be: no 5xx, a documented status code, the
documented content type and headers, a body matching its schema, and a 4xx for every request
the description says is invalid.

Every case is sent signed (SigV4 with the local cloud's credentials, tests/support/api_auth.py),
as a client of the AWS_IAM API sends it; and sent again unsigned, when it must be API Gateway's
403 Missing Authentication Token whatever the request (test_hostile_auth.py proves that no
refused request reaches a function).

Size: FTB_FUZZ_EXAMPLES fuzzed cases per operation (25 by default, inside `make test`, the
same cases every run; `make reliability` sets 1000 and draws fresh cases each run). The last
test prints the figures: cases run per operation, answers by status, server errors.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import HealthCheck
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api_auth import SignedSession, UnsignedSession

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
DEFAULT_EXAMPLES = 25
_configured = os.environ.get("FTB_FUZZ_EXAMPLES", "").strip()
EXAMPLES = int(_configured) if _configured else DEFAULT_EXAMPLES
# A small run is a regression test: the same cases every time. A large one explores.
DETERMINISTIC = not _configured

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Left out on purpose: `unsupported_method` expects 405 for an undeclared method, and API
# Gateway answers 403 "Missing Authentication Token" (test_hostile_input checks that);
# `positive_data_acceptance` expects a 2xx for any schema-valid body, while the handler also
# refuses what a schema cannot express (U+FFFF, unpaired surrogates, > 64 levels, 256 KiB) and
# answers 409 to a reused taskId, which a fuzzer reuses all the time.

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300 + 3 * EXAMPLES)]

schema = schemathesis.openapi.from_path(str(OPENAPI_PATH))
schema.config.generation.update(
    max_examples=EXAMPLES,
    deterministic=DETERMINISTIC,
    database="none",  # no .hypothesis/ example database in the working tree
)
# The API is a real server with workflows running behind it: a slow example is not a bug.
schema.config.update(suppress_health_check=[HealthCheck.too_slow])


class FuzzFigures:
    """What the fuzzing sent and got, per operation (shared by the generated tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cases: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = {}

    def record(self, operation: str, status: int) -> None:
        with self._lock:
            self.cases[operation] += 1
            self.statuses.setdefault(operation, Counter())[status] += 1

    def server_errors(self, operation: str) -> int:
        return sum(n for status, n in self.statuses.get(operation, {}).items() if status >= 500)

    def table(self) -> str:
        lines = [
            f"fuzz (schemathesis {schemathesis.__version__}, FTB_FUZZ_EXAMPLES={EXAMPLES}, "
            f"{'deterministic' if DETERMINISTIC else 'random'})",
            f"  {'operation':<30} {'cases':>6} {'5xx':>5}  answers by status",
        ]
        for operation in sorted(self.cases):
            answers = ", ".join(
                f"{status}: {n}" for status, n in sorted(self.statuses[operation].items())
            )
            lines.append(
                f"  {operation:<30} {self.cases[operation]:>6} "
                f"{self.server_errors(operation):>5}  {answers}"
            )
        return "\n".join(lines)


FIGURES = FuzzFigures()
_session = SignedSession()
_unsigned = UnsignedSession()


@schema.parametrize()
def test_generated_requests_get_documented_answers_and_never_a_5xx(
    case: schemathesis.Case, api_url: str
) -> None:
    # Given a request generated from the description (valid or deliberately invalid)
    # When it is sent to the running local API
    response = case.call(base_url=api_url, session=_session, timeout=60)
    FIGURES.record(case.operation.label, response.status_code)
    # Then the answer is no server error and conforms to the description
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
def test_generated_requests_without_a_signature_are_api_gateways_403(
    case: schemathesis.Case, api_url: str
) -> None:
    # Given the same generated requests, sent without a signature
    response = case.call(base_url=api_url, session=_unsigned, timeout=60)
    FIGURES.record(f"{case.operation.label} unsigned", response.status_code)
    # Then API Gateway refuses every one before validating it, with its own 403
    assert response.status_code == 403, (response.status_code, response.text[:300])
    # (the body is the API's MISSING_AUTHENTICATION_TOKEN gateway response: API Gateway's
    # message, plus the routes the API offers)
    assert response.json()["message"] == "Missing Authentication Token"
    # (schemathesis's response: lowercase header names, a list of values each)
    assert response.headers["x-amzn-errortype"] == ["MissingAuthenticationTokenException"]


@pytest.fixture(scope="module", autouse=True)
def fuzz_figures(request: pytest.FixtureRequest) -> Iterator[FuzzFigures]:
    """After this module's generated tests (whichever ran, in any order): the figures, and
    every operation that was fuzzed got its full number of cases and no server error."""
    yield FIGURES
    if not FIGURES.cases:
        return
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{FIGURES.table()}")
    for operation in FIGURES.cases:
        assert FIGURES.cases[operation] >= EXAMPLES, FIGURES.table()
        assert FIGURES.server_errors(operation) == 0, FIGURES.table()
