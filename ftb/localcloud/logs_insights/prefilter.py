"""A cheap, exact test before a filter: strings one of which the raw message must contain for
the filter to be able to match, so most events are rejected without parsing their JSON.

`needles(condition, added)` gives such strings, or None when the filter gives none. It is only
ever a necessary condition, and only where that is certain:

- `field = "text"`, `field in ["a", "b"]`, `field like "text"` on a field discovered in the
  message (not `@`-fields, not fields an earlier command set): a JSON string value appears
  verbatim in the message unless the message holds a backslash (an escape), which the caller
  checks; the text must not be something a number or boolean prints as (`2`, `1e3`, `True`),
  since those compare by their printed value, which the raw JSON may spell differently;
- `@message like "text"`: the message itself;
- `and`: the needles of one part; `or`: every part must give needles (their union).
"""

from __future__ import annotations

from ftb.localcloud.logs_insights import expressions as ex

# Characters that str() of a number or boolean can contain: a needle needs one outside them.
_NUMERIC_OR_BOOLEAN = set("0123456789.+-eEinfatyINFATYrulsFN")


def _safe_text(text: object) -> bool:
    return isinstance(text, str) and text != "" and not set(text) <= _NUMERIC_OR_BOOLEAN


def _discovered(expression: ex.Expr, added: set[str]) -> bool:
    return (
        isinstance(expression, ex.Field)
        and not expression.name.startswith("@")
        and expression.name not in added
    )


def needles(condition: ex.Expr, added: set[str]) -> list[str] | None:
    if isinstance(condition, ex.Compare) and condition.op == "=":
        for field, other in ((condition.left, condition.right), (condition.right, condition.left)):
            if (
                _discovered(field, added)
                and isinstance(other, ex.Literal)
                and _safe_text(other.value)
            ):
                return [other.value]
        return None
    if isinstance(condition, ex.InList) and not condition.negate:
        if _discovered(condition.operand, added) and all(map(_safe_text, condition.values)):
            return [str(value) for value in condition.values] or None
        return None
    if isinstance(condition, ex.Match) and not condition.negate and condition.pattern is None:
        operand = condition.operand
        is_message = (
            isinstance(operand, ex.Field) and operand.name == "@message" and "@message" not in added
        )
        if is_message and condition.text:
            return [condition.text]
        if _discovered(operand, added) and _safe_text(condition.text):
            return [str(condition.text)]
        return None
    if isinstance(condition, ex.And):
        options = [found for part in condition.parts if (found := needles(part, added))]
        return min(options, key=len) if options else None
    if isinstance(condition, ex.Or):
        union: list[str] = []
        for part in condition.parts:
            found = needles(part, added)
            if found is None:
                return None
            union += found
        return union
    return None
