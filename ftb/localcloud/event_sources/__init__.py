"""Event source mappings: SQS queues polled the way Lambda polls them (`sqs.py`)."""

from ftb.localcloud.event_sources.sqs import (
    SqsPoller,
    sqs_event_record,
    start_pollers,
    succeeded_records,
)

__all__ = ["SqsPoller", "sqs_event_record", "start_pollers", "succeeded_records"]
