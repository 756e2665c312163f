"""A test CDK app: the real stack plus an extra queue, function and route (tests/e2e)."""
