"""Saved Logs Insights queries on the local endpoint: PutQueryDefinition,
DescribeQueryDefinitions and DeleteQueryDefinition (moto implements none of them).

Shapes, limits and errors follow the API reference (API_PutQueryDefinition,
API_DescribeQueryDefinitions, API_DeleteQueryDefinition) and botocore's model: a name of
1-255 characters, a query of 1-10,000, maxResults 1-1,000; an unknown queryDefinitionId is
ResourceNotFoundException; a put with an id replaces that definition, without one creates a
new one (names need not be unique, as on AWS). The template's AWS::Logs::QueryDefinition
resources are provisioned through PutQueryDefinition, so the stack's saved queries list here
as they do in the console.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from ftb.localcloud.endpoint.calls import AwsCall, json_response
from ftb.localcloud.logs_insights.requests import BadRequest, dispatch, invalid

OPERATIONS = frozenset({"PutQueryDefinition", "DescribeQueryDefinitions", "DeleteQueryDefinition"})
MAX_NAME = 255
MAX_QUERY = 10_000
MAX_RESULTS = 1000
QUERY_LANGUAGES = ("CWLI", "SQL", "PPL")


@dataclass
class QueryDefinition:
    query_definition_id: str
    name: str
    query_string: str
    log_group_names: list[str]
    query_language: str
    last_modified: int = field(default_factory=lambda: int(time.time() * 1000))

    def describe(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "queryLanguage": self.query_language,
            "queryDefinitionId": self.query_definition_id,
            "name": self.name,
            "queryString": self.query_string,
            "lastModified": self.last_modified,
        }
        if self.log_group_names:
            document["logGroupNames"] = list(self.log_group_names)
        return document


class QueryDefinitionsApi:
    """The service handler (register it for "logs" on the AwsEndpoint)."""

    operations = OPERATIONS

    def __init__(self) -> None:
        self._definitions: dict[str, QueryDefinition] = {}
        self._lock = threading.Lock()

    def handle(self, call: AwsCall) -> Response | None:
        return dispatch(self, call, OPERATIONS)

    def _PutQueryDefinition(self, body: dict[str, Any], call: AwsCall) -> Response:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            raise invalid(f"name is required: 1 to {MAX_NAME} characters")
        query = body.get("queryString")
        if not isinstance(query, str) or not 1 <= len(query) <= MAX_QUERY:
            raise invalid(f"queryString is required: 1 to {MAX_QUERY} characters")
        groups = body.get("logGroupNames") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise invalid("logGroupNames must be a list of log group names")
        language = body.get("queryLanguage", "CWLI")
        if language not in QUERY_LANGUAGES:
            raise invalid(f"queryLanguage must be one of {', '.join(QUERY_LANGUAGES)}")
        wanted = body.get("queryDefinitionId")
        with self._lock:
            if wanted is not None and wanted not in self._definitions:
                raise BadRequest("ResourceNotFoundException", "Query definition does not exist")
            definition_id = wanted or str(uuid.uuid4())
            self._definitions[definition_id] = QueryDefinition(
                definition_id, name, query, list(groups), language
            )
        return json_response({"queryDefinitionId": definition_id})

    def _DescribeQueryDefinitions(self, body: dict[str, Any], call: AwsCall) -> Response:
        prefix = body.get("queryDefinitionNamePrefix")
        if prefix is not None and (not isinstance(prefix, str) or not prefix):
            raise invalid("queryDefinitionNamePrefix must be 1 to 255 characters")
        max_results = body.get("maxResults", MAX_RESULTS)
        if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
            raise invalid(f"maxResults must be between 1 and {MAX_RESULTS}")
        language = body.get("queryLanguage")
        with self._lock:
            matching = sorted(
                (
                    d
                    for d in self._definitions.values()
                    if (prefix is None or d.name.startswith(prefix))
                    and (language is None or d.query_language == language)
                ),
                key=lambda d: (d.name, d.query_definition_id),
            )
        start = 0
        token = body.get("nextToken")
        if token is not None:
            if not isinstance(token, str) or not token.isdigit() or int(token) > len(matching):
                raise invalid("The specified nextToken is not valid")
            start = int(token)
        page = matching[start : start + max_results]
        document: dict[str, Any] = {"queryDefinitions": [d.describe() for d in page]}
        if start + max_results < len(matching):
            document["nextToken"] = str(start + max_results)
        return json_response(document)

    def _DeleteQueryDefinition(self, body: dict[str, Any], call: AwsCall) -> Response:
        definition_id = body.get("queryDefinitionId")
        if not isinstance(definition_id, str) or not definition_id:
            raise invalid("queryDefinitionId is required")
        with self._lock:
            if self._definitions.pop(definition_id, None) is None:
                raise BadRequest("ResourceNotFoundException", "Query definition does not exist")
        return json_response({"success": True})
