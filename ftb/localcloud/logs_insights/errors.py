"""The one error a query can raise: AWS's MalformedQueryException, with where it is."""

from __future__ import annotations


class MalformedQuery(Exception):
    """The query cannot run as written: a syntax error, or a command, function or argument
    this engine does not support. `start`/`end` are character offsets in the query string
    (AWS's `queryCompileError.location`)."""

    def __init__(self, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = max(end, start)


def line_and_position(query: str, offset: int) -> tuple[int, int]:
    """1-based line and position of a character offset, as AWS's compile errors name them."""
    before = query[:offset]
    line = before.count("\n") + 1
    position = offset - (before.rfind("\n") + 1) + 1
    return line, position
