"""CloudWatch Logs Insights on the local endpoint: StartQuery, GetQueryResults, StopQuery,
DescribeQueries and GetLogRecord, answered before moto (whose Insights ignores most of the
language and reports `Complete` for anything).

A query is checked and parsed when it is started (errors answer StartQuery, as on AWS) and
runs on a worker thread: GetQueryResults says `Scheduled`, `Running`, then `Complete` with
every row, or `Cancelled` after StopQuery, or `Failed`. Shapes and limits follow the API
reference (API_StartQuery, API_GetQueryResults, API_StopQuery, API_DescribeQueries,
API_GetLogRecord).
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, json_response
from ftb.localcloud.logs_insights.errors import MalformedQuery
from ftb.localcloud.logs_insights.executor import Cancelled, Result, execute
from ftb.localcloud.logs_insights.moto_logs import LogsStore, account_and_region
from ftb.localcloud.logs_insights.query import Query
from ftb.localcloud.logs_insights.records import read_pointer
from ftb.localcloud.logs_insights.requests import BadRequest, dispatch, invalid
from ftb.localcloud.logs_insights.values import format_value

MAX_LOG_GROUPS = 50
MAX_LIMIT = 10_000
MAX_DESCRIBE_RESULTS = 1000
WORKERS = 2

OPERATIONS = frozenset(
    {"StartQuery", "GetQueryResults", "StopQuery", "DescribeQueries", "GetLogRecord"}
)


@dataclass
class _Query:
    query_id: str
    text: str
    parsed: Query
    store: LogsStore
    groups: list[str]
    start_ms: int
    end_ms: int
    limit: int | None
    create_time: int
    status: str = "Scheduled"
    result: Result | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        return {
            "queryLanguage": "CWLI",
            "queryId": self.query_id,
            "queryString": self.text,
            "status": self.status,
            "createTime": self.create_time,
            "logGroupName": self.groups[0],
        }


class LogsInsightsApi:
    """The service handler (register it for "logs" on the AwsEndpoint)."""

    operations = OPERATIONS

    def __init__(self) -> None:
        self._queries: dict[str, _Query] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="logs-insights")

    def shutdown(self) -> None:
        with self._lock:
            for query in self._queries.values():
                query.stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, call: AwsCall) -> Response | None:
        return dispatch(self, call, OPERATIONS)

    # -- StartQuery -----------------------------------------------------------------------

    def _StartQuery(self, body: dict[str, Any], call: AwsCall) -> Response:
        store = LogsStore(*account_and_region(call.request.headers))
        language = body.get("queryLanguage", "CWLI")
        if language != "CWLI":
            raise invalid(
                f"queryLanguage {language!r} is not available on the local endpoint: "
                "only CWLI (Logs Insights QL) runs here"
            )
        # The grammar (lark) loads at the first query, not at every `ftb local` start.
        from ftb.localcloud.logs_insights.parser import MAX_QUERY_LENGTH, parse_query

        text = body.get("queryString")
        if not isinstance(text, str) or not text:
            raise invalid("queryString is required")
        if len(text) > MAX_QUERY_LENGTH:
            raise invalid(f"queryString must be at most {MAX_QUERY_LENGTH} characters")
        groups = self._groups(body, store)
        start, end = body.get("startTime"), body.get("endTime")
        if not isinstance(start, int) or not isinstance(end, int):
            raise invalid("startTime and endTime are required (epoch seconds)")
        if start < 0 or end < 0:
            raise invalid("startTime and endTime must not be negative")
        if end < start:
            raise invalid("endTime must be greater than or equal to startTime")
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT):
            raise invalid(f"limit must be between 1 and {MAX_LIMIT}")
        try:
            parsed = parse_query(text)
        except MalformedQuery as error:
            raise BadRequest(
                "MalformedQueryException",
                error.message,
                {
                    "queryCompileError": {
                        "location": {"startCharOffset": error.start, "endCharOffset": error.end},
                        "message": error.message,
                    }
                },
            ) from None
        query = _Query(
            query_id=str(uuid.uuid4()),
            text=text,
            parsed=parsed,
            store=store,
            groups=groups,
            start_ms=start * 1000,
            # endTime is inclusive (API_StartQuery), to the second.
            end_ms=(end + 1) * 1000,
            limit=limit,
            create_time=int(time.time() * 1000),
        )
        with self._lock:
            self._queries[query.query_id] = query
        self._pool.submit(self._run, query)
        return json_response({"queryId": query.query_id})

    def _groups(self, body: dict[str, Any], store: LogsStore) -> list[str]:
        given = [
            key for key in ("logGroupName", "logGroupNames", "logGroupIdentifiers") if key in body
        ]
        if len(given) != 1:
            raise invalid(
                "exactly one of logGroupName, logGroupNames or logGroupIdentifiers is required"
            )
        value = body[given[0]]
        names = [value] if given[0] == "logGroupName" else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise invalid(f"{given[0]} must name at least one log group")
        if len(names) > MAX_LOG_GROUPS:
            raise invalid(f"a query can include up to {MAX_LOG_GROUPS} log groups")
        resolved = []
        for name in names:
            if given[0] == "logGroupIdentifiers" and name.startswith("arn:"):
                # arn:aws:logs:REGION:ACCOUNT:log-group:NAME (an ARN may not end in *)
                if name.endswith("*"):
                    raise invalid("a log group ARN in logGroupIdentifiers cannot end with *")
                parts = name.split(":", 6)
                if len(parts) < 7 or parts[5] != "log-group":
                    raise invalid(f"{name} is not a log group ARN")
                if parts[4] != store.account_id or parts[3] != store.region:
                    raise BadRequest(
                        "ResourceNotFoundException", f"Log group {name} does not exist"
                    )
                name = parts[6]
            if store.group(name) is None:
                raise BadRequest("ResourceNotFoundException", f"Log group '{name}' does not exist")
            resolved.append(name)
        return list(dict.fromkeys(resolved))

    def _run(self, query: _Query) -> None:
        if query.stop.is_set():
            return
        query.status = "Running"
        try:
            events = query.store.events(query.groups, query.start_ms, query.end_ms)
            result = execute(query.parsed, events, query.limit, query.stop.is_set)
        except Cancelled:
            query.status = "Cancelled"
            return
        except Exception:
            query.status = "Failed"
            raise
        query.result = result
        query.status = "Cancelled" if query.stop.is_set() else "Complete"

    # -- the other operations -------------------------------------------------------------

    def _query(self, body: dict[str, Any]) -> _Query:
        query_id = body.get("queryId")
        if not isinstance(query_id, str) or not query_id:
            raise invalid("queryId is required")
        with self._lock:
            query = self._queries.get(query_id)
        if query is None:
            raise BadRequest("ResourceNotFoundException", f"Query {query_id} does not exist")
        return query

    def _GetQueryResults(self, body: dict[str, Any], call: AwsCall) -> Response:
        query = self._query(body)
        status = query.status
        result = query.result if status == "Complete" else None
        document: dict[str, Any] = {
            "queryLanguage": "CWLI",
            "results": result.rows if result else [],
            "statistics": (result.statistics.to_json() if result else _no_statistics()),
            "status": status,
        }
        return json_response(document)

    def _StopQuery(self, body: dict[str, Any], call: AwsCall) -> Response:
        query = self._query(body)
        running = query.status in {"Scheduled", "Running"}
        if running:
            query.stop.set()
            if query.status == "Scheduled":
                query.status = "Cancelled"
        return json_response({"success": running})

    def _DescribeQueries(self, body: dict[str, Any], call: AwsCall) -> Response:
        group = body.get("logGroupName")
        status = body.get("status")
        if status is not None and status not in {
            "Scheduled",
            "Running",
            "Complete",
            "Failed",
            "Cancelled",
            "Timeout",
            "Unknown",
        }:
            raise invalid(f"status {status!r} is not a query status")
        max_results = body.get("maxResults", MAX_DESCRIBE_RESULTS)
        if not isinstance(max_results, int) or not 1 <= max_results <= MAX_DESCRIBE_RESULTS:
            raise invalid(f"maxResults must be between 1 and {MAX_DESCRIBE_RESULTS}")
        with self._lock:
            queries = sorted(self._queries.values(), key=lambda q: q.create_time, reverse=True)
        account, region = account_and_region(call.request.headers)
        queries = [
            q
            for q in queries
            if (q.store.account_id, q.store.region) == (account, region)
            and (group is None or group in q.groups)
            and (status is None or q.status == status)
        ]
        start = 0
        token = body.get("nextToken")
        if token is not None:
            if not isinstance(token, str) or not token.isdigit():
                raise invalid("nextToken is not valid")
            start = int(token)
        page = queries[start : start + max_results]
        document: dict[str, Any] = {"queries": [query.describe() for query in page]}
        if start + max_results < len(queries):
            document["nextToken"] = str(start + max_results)
        return json_response(document)

    def _GetLogRecord(self, body: dict[str, Any], call: AwsCall) -> Response:
        ptr = body.get("logRecordPointer")
        if not isinstance(ptr, str) or not ptr:
            raise invalid("logRecordPointer is required")
        where = read_pointer(ptr)
        if where is None:
            raise invalid("logRecordPointer is not a pointer a query returned")
        store = LogsStore(*account_and_region(call.request.headers))
        record = store.event(*where)
        if record is None:
            raise BadRequest("ResourceNotFoundException", "the log record does not exist")
        fields = record.all_fields()
        # GetLogRecord gives times as epoch milliseconds, not formatted.
        fields["@timestamp"] = str(record.timestamp)
        fields["@ingestionTime"] = str(record.ingestion)
        return json_response(
            {
                "logRecord": {
                    name: value if isinstance(value, str) else format_value(value)
                    for name, value in fields.items()
                    if value is not None
                }
            }
        )


def _no_statistics() -> dict[str, float]:
    return {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}
