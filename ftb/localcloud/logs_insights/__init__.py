"""A CloudWatch Logs Insights engine for the local endpoint: the query language (parser.py),
its execution over moto's log events (executor.py), and the API (service.py)."""

from ftb.localcloud.logs_insights.errors import MalformedQuery
from ftb.localcloud.logs_insights.executor import Result, execute
from ftb.localcloud.logs_insights.parser import parse_query
from ftb.localcloud.logs_insights.service import LogsInsightsApi

__all__ = ["LogsInsightsApi", "MalformedQuery", "Result", "execute", "parse_query"]
