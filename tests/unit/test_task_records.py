"""The task record's schema: a new task, a redrive's name reservation, the runs of a task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from task_domain.models import TASK_RECORD_TTL_DAYS
from task_domain.records import RESERVED_DIGEST, TaskRecord

NOW = datetime(2026, 11, 24, 20, 0, 0, tzinfo=UTC)


def test_a_new_record_is_its_own_first_run_and_writes_no_redrive_fields():
    # Given a task just accepted
    record = TaskRecord.new("task-001", "d" * 64, NOW)
    # Then its only run is named after it, and its item holds exactly the submission's fields
    assert record.run_names == ["task-001"]
    assert record.to_item() == {
        "taskId": "task-001",
        "payloadDigest": "d" * 64,
        "status": "QUEUED",
        "submittedAt": "2026-11-24T20:00:00.000Z",
        "executionName": "task-001",
        "enqueued": False,
        "expiresAt": int((NOW + timedelta(days=TASK_RECORD_TTL_DAYS)).timestamp()),
    }


def test_a_reservation_holds_a_name_no_payload_can_match_a_day_past_the_name():
    # Given the name of task-0079's second run, reserved
    reservation = TaskRecord.reservation("task-0079-r1", "task-0079", NOW)
    item = reservation.to_item()
    # Then it names the task it holds the name for, with a digest no SHA-256 can equal
    assert item["taskId"] == item["executionName"] == "task-0079-r1"
    assert item["reservedFor"] == "task-0079"
    assert item["payloadDigest"] == RESERVED_DIGEST and len(RESERVED_DIGEST) != 64
    # And it lives as long as the name stays reserved (90 days after the run) and a day more
    assert item["expiresAt"] == int((NOW + timedelta(days=TASK_RECORD_TTL_DAYS + 1)).timestamp())
    assert "runs" not in item


def test_a_redriven_record_lists_its_runs_oldest_first():
    # Given a record moved twice to a new run, as DynamoDB returns it
    item = {
        "taskId": "job-1",
        "payloadDigest": "d" * 64,
        "submittedAt": "2026-11-24T20:00:00.000Z",
        "executionName": "job-1-r2",
        "runs": ["job-1", "job-1-r1"],
        "expiresAt": 1,
    }
    # Then its runs read oldest first, the current one last
    assert TaskRecord.model_validate(item).run_names == ["job-1", "job-1-r1", "job-1-r2"]
