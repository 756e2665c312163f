"""The method's request validator: required parameters, and the body against its model (JSON
Schema draft 4, with jsonschema), as API Gateway applies them.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from ftb.localcloud.apigateway.proxy import HttpRequest


def parameter_present(name: str, request: HttpRequest, path_parameters: dict[str, str]) -> bool:
    parts = name.split(".", 3)  # method.request.<location>.<name>
    if len(parts) != 4:
        return True
    location, key = parts[2], parts[3]
    if location == "path":
        return bool(path_parameters.get(key))
    if location == "querystring":
        return any(k == key and v != "" for k, v in request.query)
    if location == "header":
        return bool(request.header(key))
    return True


def validate_json_body(schema: Any, body: bytes) -> str | None:
    """None when valid; else API Gateway's validation error string (`[message, ...]`)."""
    try:
        document = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError) as error:
        return f"[Invalid JSON: {error}]"
    except RecursionError:  # e.g. 10,000 nested arrays: a client error, not a crash
        return "[Invalid JSON: nested too deeply]"
    # API Gateway models are JSON Schema draft 4.
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    messages = []
    for found in errors:
        where = "/".join(str(part) for part in found.absolute_path)
        messages.append(f"{where}: {found.message}" if where else found.message)
    return "[" + ", ".join(messages) + "]"
