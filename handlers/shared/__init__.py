"""Code shared by every Lambda function: the task contract, settings, errors, observability."""
