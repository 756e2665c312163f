"""Errors of the Lambda service itself (not of a function): each one an HTTP error answer."""

from __future__ import annotations


class LambdaServiceError(Exception):
    """An error of the Lambda service itself (not of the function): an HTTP error answer."""

    status_code = 500
    error_type = "ServiceException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFoundError(LambdaServiceError):
    status_code = 404
    error_type = "ResourceNotFoundException"


class TooManyRequestsError(LambdaServiceError):
    status_code = 429
    error_type = "TooManyRequestsException"


class InvalidRequestContentError(LambdaServiceError):
    status_code = 400
    error_type = "InvalidRequestContentException"


class InvalidParameterValueError(LambdaServiceError):
    status_code = 400
    error_type = "InvalidParameterValueException"


class ValidationError(LambdaServiceError):
    status_code = 400
    error_type = "ValidationException"


class PreconditionFailedError(LambdaServiceError):
    status_code = 412
    error_type = "PreconditionFailedException"


class RequestTooLargeError(LambdaServiceError):
    status_code = 413
    error_type = "RequestTooLargeException"


class RuntimeStoppedError(LambdaServiceError):
    status_code = 503
    error_type = "ServiceException"
