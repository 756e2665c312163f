"""The local CloudWatch: the metric store, the alarms, the API handler, the collectors, and the
thread that samples the queues and executions and evaluates the alarms every scaled minute
(CloudWatch evaluates alarms once a minute)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ftb.localcloud.cloudwatch.alarms import Alarms, MetricAlarm
from ftb.localcloud.cloudwatch.collectors import ApiMetrics, LambdaMetrics, Sampler
from ftb.localcloud.cloudwatch.handler import CloudWatchApi
from ftb.localcloud.cloudwatch.store import MetricStore

EVALUATION_SECONDS = 60.0
MIN_TICK_SECONDS = 0.05
# What of CloudWatch the local cloud does not do (the banner's line and docs/local-cloud.md).
NOT_EMULATED = (
    "alarm actions (SNS notifications are not sent), composite alarms, anomaly detection, "
    "dashboards, Contributor/Metrics Insights, metric streams"
)


class LocalCloudWatch:
    def __init__(self, region: str, account: str, scale: float = 1.0) -> None:
        self.scale = scale
        self.store = MetricStore()
        self.alarms = Alarms(self.store, region, account, scale)
        self.api = CloudWatchApi(self.store, self.alarms)
        self.lambda_metrics = LambdaMetrics(self.store)
        self.api_metrics = ApiMetrics(self.store)
        self.sampler: Sampler | None = None

    @property
    def tick_seconds(self) -> float:
        return max(EVALUATION_SECONDS * self.scale, MIN_TICK_SECONDS)

    def on_transition(self, listener: Callable[[MetricAlarm, str, str], None]) -> None:
        self.alarms.listeners.append(listener)

    def start(
        self,
        queues: Callable[[], Iterable[tuple[str, str]]],
        state_machines: Callable[[], Iterable[str]],
    ) -> None:
        self.sampler = Sampler(
            self.store, self.tick_seconds, queues, state_machines, self.alarms.evaluate_all
        )
        self.sampler.start()

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
            self.sampler = None


def transition_line(alarm: MetricAlarm, old: str, new: str) -> str:
    """One terminal line per transition."""
    return f"{alarm.name}: {old} -> {new} ({alarm.reason})"
