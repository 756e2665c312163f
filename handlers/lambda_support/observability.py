"""Logger, Tracer and Metrics, created once and configured by POWERTOOLS_* variables.

The stack sets POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and
POWERTOOLS_LOG_LEVEL; every log line carries `taskId` once a handler appends it, so a task
can be followed across functions in CloudWatch Logs Insights.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
