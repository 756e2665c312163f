"""Step Functions' execution logs on the local cloud: each state machine with a
LoggingConfiguration gets its execution events in its log group, in the format Step Functions
writes them (records.py), shipped while executions run (shipper.py)."""

from ftb.localcloud.stepfunctions_logs.records import log_record, logged_types
from ftb.localcloud.stepfunctions_logs.shipper import ExecutionLogShipper

__all__ = ["ExecutionLogShipper", "log_record", "logged_types"]
