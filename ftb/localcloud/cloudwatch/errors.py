"""CloudWatch's errors, by their query-compatible codes (botocore's model of the service)."""

from __future__ import annotations

# code -> (shape name, HTTP status): what the JSON protocol's `__type` and status carry.
SHAPES = {
    "InvalidParameterValue": ("InvalidParameterValueException", 400),
    "InvalidParameterCombination": ("InvalidParameterCombinationException", 400),
    "MissingParameter": ("MissingRequiredParameterException", 400),
    "ResourceNotFound": ("ResourceNotFound", 404),
    "InvalidNextToken": ("InvalidNextToken", 400),
    "ValidationError": ("ValidationException", 400),
    "LimitExceeded": ("LimitExceededFault", 400),
    "InvalidFormat": ("InvalidFormatFault", 400),
}


class CloudWatchError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
