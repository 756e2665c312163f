"""A CloudWatch Logs Insights engine for the local endpoint: the query language (parser.py),
its execution over moto's log events (executor.py), and the API (service.py)."""

from typing import TYPE_CHECKING, Any

from ftb.localcloud.logs_insights.errors import MalformedQuery
from ftb.localcloud.logs_insights.executor import Result, execute
from ftb.localcloud.logs_insights.query_definitions import QueryDefinitionsApi
from ftb.localcloud.logs_insights.service import LogsInsightsApi

if TYPE_CHECKING:
    from ftb.localcloud.logs_insights.parser import parse_query

__all__ = [
    "LogsInsightsApi",
    "MalformedQuery",
    "QueryDefinitionsApi",
    "Result",
    "execute",
    "parse_query",
]


def __getattr__(name: str) -> Any:
    # The parser imports its grammar library (lark): loaded when first asked for, so that
    # `ftb local` does not load it at every start (a query loads it then).
    if name == "parse_query":
        from ftb.localcloud.logs_insights.parser import parse_query

        return parse_query
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
