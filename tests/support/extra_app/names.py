"""Names the extra test app gives its resources (shared with the tests, without CDK)."""

EXTRA_FUNCTION_NAME = "FaultTolerantBackend-extra"
EXTRA_TIMEOUT_SECONDS = 2
# The extra queue's redrive policy: a message failing this many receives moves to its DLQ.
EXTRA_MAX_RECEIVE_COUNT = 2
