"""FilterLogEvents: moto answers it, but evaluates only some filter patterns; the others it
treats as "match everything" (a JSON pattern `{ $.taskId = "x" }` returns every event of the
group), and it ignores `logStreamNamePrefix`. A console's log filter box sends exactly these,
so what moto cannot evaluate is refused here, before moto, with the Logs API's
InvalidParameterException naming what is not supported, and pointing at Logs Insights (whose
`filter` reads JSON fields locally as on AWS).

Passed to moto: no pattern, one quoted term (`"task-1"`), or bare terms of letters, digits and
underscores that must all appear (`ERROR Task`), which moto matches as substrings.
See the filter pattern syntax:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
"""

from __future__ import annotations

import re

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, json_error

_MOTO_EVALUATES = re.compile(r'^\s*(?:"[^"]*"|[A-Za-z0-9_]+(?: +[A-Za-z0-9_]+)*)?\s*$')


def unsupported(body: dict[str, object]) -> str | None:
    """Why moto would answer this FilterLogEvents request wrongly, or None."""
    pattern = body.get("filterPattern")
    if isinstance(pattern, str) and not _MOTO_EVALUATES.match(pattern):
        return (
            f"the filter pattern {pattern!r} is not evaluated by the local endpoint (it "
            "evaluates no pattern, one quoted term, or bare terms that must all appear; not "
            "JSON `{ $.field ... }`, space-delimited `[...]`, `?term`, `-term` or regex "
            "patterns): query the JSON fields with Logs Insights (StartQuery) `filter` instead"
        )
    if body.get("logStreamNamePrefix"):
        return (
            "logStreamNamePrefix is not supported by the local endpoint: name the streams "
            "with logStreamNames"
        )
    return None


class FilterPatternGuard:
    """A service handler ("logs"): refuses the FilterLogEvents requests moto would answer
    wrongly; answers nothing else (moto implements FilterLogEvents, so it declares none)."""

    operations: frozenset[str] = frozenset()

    def handle(self, call: AwsCall) -> Response | None:
        if call.protocol != "json" or call.operation != "FilterLogEvents":
            return None
        try:
            body = call.json()
        except ValueError:
            return None  # moto answers the malformed body with its own error
        if not isinstance(body, dict):
            return None
        reason = unsupported(body)
        if reason is None:
            return None
        return json_error("InvalidParameterException", reason)
