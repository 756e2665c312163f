"""Where the stack's metrics come from, as AWS's services publish them:

- AWS/Lambda (dimension FunctionName): Invocations, Errors (0 or 1 per invocation: function
  errors, timeouts, crashes), Duration (Milliseconds), Throttles (a throttled invocation is not
  an invocation), from the local runtime's invocations;
- the functions' embedded-metric-format lines (Powertools Metrics), from their output;
- AWS/ApiGateway (ApiName; ApiName, Stage): Count, 4XXError and 5XXError (0 or 1 per
  request: their Average is the share answered 4xx / 5xx), Latency (Milliseconds), from the
  local API Gateway's requests to a deployed stage;
- AWS/SQS (QueueName): ApproximateNumberOfMessagesVisible (Count) and
  ApproximateAgeOfOldestMessage (Seconds; only while the queue holds a message), sampled once
  a (scaled) minute as SQS reports them;
- AWS/States (StateMachineArn): ExecutionsStarted, and ExecutionsSucceeded / Failed /
  TimedOut / Aborted when each execution ends, with ExecutionTime (Milliseconds), Count each.
Metric names, dimensions and units: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html,
https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from ftb.localcloud.cloudwatch.emf import metrics_in
from ftb.localcloud.cloudwatch.store import MetricKey, MetricStore, Sample
from ftb.localcloud.moto_internals import metric_sources as moto_access

_ENDED = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}


class LambdaMetrics:
    """The runtime's hook (LambdaRuntime.metrics): what Lambda itself publishes."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store

    def invoked(self, function: str, duration_ms: float, error: bool) -> None:
        now = time.time()
        dims = {"FunctionName": function}
        put = self.store.put
        put(MetricKey.of("AWS/Lambda", "Invocations", dims), Sample.value(now, 1.0, "Count"))
        put(MetricKey.of("AWS/Lambda", "Errors", dims), Sample.value(now, float(error), "Count"))
        put(
            MetricKey.of("AWS/Lambda", "Duration", dims),
            Sample.value(now, duration_ms, "Milliseconds"),
        )

    def throttled(self, function: str) -> None:
        key = MetricKey.of("AWS/Lambda", "Throttles", {"FunctionName": function})
        self.store.put(key, Sample.value(time.time(), 1.0, "Count"))

    def log_line(self, function: str, line: str) -> None:
        """A line of the function's output: its EMF metrics, if any."""
        for key, sample in metrics_in(line):
            self.store.put(key, sample)


class ApiMetrics:
    """The API Gateway's hook (ApiGateway.metrics): what API Gateway publishes per request."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store

    def request(self, api_name: str, stage: str, status: int, latency_ms: float) -> None:
        now = time.time()
        for dims in ({"ApiName": api_name}, {"ApiName": api_name, "Stage": stage}):
            put = self.store.put
            put(MetricKey.of("AWS/ApiGateway", "Count", dims), Sample.value(now, 1.0, "Count"))
            for name, low in (("4XXError", 400), ("5XXError", 500)):
                value = float(low <= status < low + 100)
                put(MetricKey.of("AWS/ApiGateway", name, dims), Sample.value(now, value, "Count"))
            put(
                MetricKey.of("AWS/ApiGateway", "Latency", dims),
                Sample.value(now, latency_ms, "Milliseconds"),
            )


class Sampler:
    """Samples the queues and follows the executions, every `interval` seconds (a scaled
    minute), on one thread."""

    def __init__(
        self,
        store: MetricStore,
        interval: float,
        queues: Callable[[], Iterable[tuple[str, str]]],  # (name, arn)
        state_machines: Callable[[], Iterable[str]],
        after: Callable[[], None] = lambda: None,  # run after each sample (the evaluation)
    ) -> None:
        self.store = store
        self.interval = interval
        self.queues = queues
        self.state_machines = state_machines
        self.after = after
        self._seen: dict[str, int] = {}  # machine -> executions already counted as started
        self._running: dict[str, dict[str, float]] = {}  # machine -> running arn -> start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cloudwatch-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
                self.after()
            except Exception:  # the endpoint is stopping: try again next time
                continue

    def sample(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for name, arn in self.queues():
            sample = moto_access.queue_sample(arn)
            if sample is None:
                continue
            dims = {"QueueName": name}
            self.store.put(
                MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", dims),
                Sample.value(now, float(sample.visible), "Count"),
            )
            if sample.oldest_age_seconds is not None:
                self.store.put(
                    MetricKey.of("AWS/SQS", "ApproximateAgeOfOldestMessage", dims),
                    Sample.value(now, float(int(sample.oldest_age_seconds)), "Seconds"),
                )
        for machine in self.state_machines():
            self._follow(machine)

    def _follow(self, machine: str) -> None:
        seen = self._seen.get(machine, 0)
        running = self._running.setdefault(machine, {})
        dims = {"StateMachineArn": machine}
        for index, record in enumerate(moto_access.executions(machine)):
            if index >= seen:
                self._count(MetricKey.of("AWS/States", "ExecutionsStarted", dims), record.started)
                running[record.arn] = record.started
                seen = index + 1
            if record.arn in running and record.status in _ENDED:
                started = running.pop(record.arn)
                ended = record.stopped or time.time()
                self._count(MetricKey.of("AWS/States", _ENDED[record.status], dims), ended)
                self.store.put(
                    MetricKey.of("AWS/States", "ExecutionTime", dims),
                    Sample.value(ended, (ended - started) * 1000, "Milliseconds"),
                )
        self._seen[machine] = seen

    def _count(self, key: MetricKey, when: float) -> None:
        self.store.put(key, Sample.value(when, 1.0, "Count"))
