"""Names the extra test app gives its resources (shared with the tests, without CDK)."""

EXTRA_FUNCTION_NAME = "FaultTolerantBackend-extra"
EXTRA_TIMEOUT_SECONDS = 2
