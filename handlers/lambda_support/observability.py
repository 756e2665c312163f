"""Logger, Tracer and Metrics, created once and configured by POWERTOOLS_* variables.

The stack sets POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and
POWERTOOLS_LOG_LEVEL; every log line carries `taskId` once a handler appends it, so a task
can be followed across functions in CloudWatch Logs Insights.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# No auto-patch: Tracer() would patch every library the X-Ray SDK knows (requests, sqlite3,
# httpx...), importing each one that is installed into every function at init, and botocore
# into process-task, which calls no AWS service. botocore is the only library the handlers
# call through; lambda_support.aws patches it where the clients are made, so every AWS call
# is still a subsegment.
tracer = Tracer(auto_patch=False)
metrics = Metrics()
