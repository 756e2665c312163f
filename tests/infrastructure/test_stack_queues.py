"""The task queue and the dead-letter queue: encryption, TLS only, redrive, retention."""

from __future__ import annotations

from infra import names
from lambda_support.settings import StarterSettings

DAY = 24 * 3600


def throttled_lifetime_seconds(max_receive_count: int, base: int, cap: int) -> int:
    """How long a record the starter keeps throttling stays in the queue before SQS moves it.

    After its n-th receive a throttled record is hidden for min(base * 2**(n-1), cap) seconds;
    SQS moves it to the DLQ on the receive that would exceed maxReceiveCount.
    """
    return sum(min(base * 2 ** (n - 1), cap) for n in range(1, max_receive_count + 1))


def test_both_queues_are_encrypted_and_refuse_plain_http(stack):
    # Given the synthesized template
    # When I look at each queue and its queue policy
    for queue_id in (stack.task_queue_id, stack.dead_letter_queue_id):
        props = stack.props(queue_id)
        # Then it is encrypted at rest with SQS-managed keys
        assert props["SqsManagedSseEnabled"] is True
        # And a policy on it denies every request not made over TLS
        policies = [
            p["Properties"]
            for p in stack.of_type("AWS::SQS::QueuePolicy").values()
            if {"Ref": queue_id} in p["Properties"]["Queues"]
        ]
        assert len(policies) == 1
        denies = [
            s
            for s in policies[0]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies and stack.actions_of(denies[0]) == {"sqs:*"}


def test_dead_letter_queue_keeps_messages_fourteen_days(stack):
    # Given the DLQ  When I read its retention  Then it is the SQS maximum, 14 days
    assert stack.props(stack.dead_letter_queue_id)["MessageRetentionPeriod"] == 14 * DAY


def test_task_queue_redrives_to_the_dead_letter_queue(stack):
    # Given the task queue
    props = stack.props(stack.task_queue_id)
    # Then its redrive policy targets the DLQ after maxReceiveCount receives
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [stack.dead_letter_queue_id, "Arn"]},
        "maxReceiveCount": names.TASK_QUEUE_MAX_RECEIVE_COUNT,
    }


def test_task_queue_visibility_is_at_least_six_starter_timeouts(stack):
    # Given the starter's timeout and batching window as deployed
    starter = stack.props(stack.function_id(names.START_EXECUTION))
    mapping = next(
        m["Properties"]
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [stack.task_queue_id, "Arn"]}
    )
    # When I read the task queue's visibility timeout
    visibility = stack.props(stack.task_queue_id)["VisibilityTimeout"]
    # Then it covers six timeouts plus the batching window (AWS's guidance for Lambda consumers)
    assert visibility >= 6 * starter["Timeout"] + mapping["MaximumBatchingWindowInSeconds"]


def test_throttling_alone_cannot_exhaust_max_receive_count(stack):
    # Given the starter's backoff, as its settings define it
    fields = StarterSettings.model_fields
    base = fields["backoff_base_seconds"].default
    cap = fields["backoff_max_seconds"].default
    assert (base, cap) == (names.STARTER_BACKOFF_BASE_SECONDS, names.STARTER_BACKOFF_MAX_SECONDS)
    props = stack.props(stack.task_queue_id)
    # When a record is throttled on every single receive
    lifetime = throttled_lifetime_seconds(
        props["RedrivePolicy"]["maxReceiveCount"], base=base, cap=cap
    )
    # Then SQS dead-letters it only after hours of throttling (an outage, not a burst: the
    # StartExecution bucket refills hundreds of tokens a second) ...
    assert lifetime >= 3 * 3600
    # ... and well before the message could expire from the task queue and be lost silently
    assert lifetime < props["MessageRetentionPeriod"] / 4


def test_lifetime_arithmetic_matches_decisions():
    # Given 50 receives with a 5 s base and a 300 s cap
    # Then the backoff sums to 5+10+20+40+80+160 + 44*300 seconds (documented in decisions.md)
    assert throttled_lifetime_seconds(50, base=5, cap=300) == 315 + 44 * 300 == 13515
