"""The experiments of one local cloud: its templates (from the synthesized stack), the
experiments started, and the injector they drive."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from typing import Any

from ftb.localcloud.fis.experiment import (
    DEFAULT_POLL_SECONDS,
    AlarmStates,
    Experiment,
    FunctionTarget,
)
from ftb.localcloud.fis.injector import FisInjector
from ftb.localcloud.fis.model import ExperimentTemplate

__all__ = ["FisService", "FunctionTarget", "experiment_id", "template_id"]

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _code(seed: bytes, length: int) -> str:
    digest = hashlib.sha256(seed).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def template_id(stack_name: str, logical_id: str) -> str:
    """`EXT` + 14 characters, like FIS's; the same across restarts."""
    return "EXT" + _code(f"{stack_name}/{logical_id}".encode(), 14)


def experiment_id() -> str:
    return "EXP" + _code(uuid.uuid4().bytes, 14)


class FisService:
    def __init__(
        self,
        region: str,
        account_id: str,
        injector: FisInjector,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.injector = injector
        self.poll_seconds = poll_seconds
        self.say = say or (lambda _line: None)
        self.templates: dict[str, ExperimentTemplate] = {}
        self.experiments: dict[str, Experiment] = {}
        self._functions: Callable[[], list[FunctionTarget]] = list
        self._alarm_states: AlarmStates = lambda _names: {}
        self._lock = threading.Lock()

    def bind(
        self,
        templates: list[ExperimentTemplate],
        functions: Callable[[], list[FunctionTarget]],
        alarm_states: AlarmStates,
    ) -> None:
        """After provisioning: the stack's templates, its functions, how alarms are read."""
        self.templates = {template.id: template for template in templates}
        self._functions = functions
        self._alarm_states = alarm_states

    def start(self, template_id: str, tags: dict[str, str] | None = None) -> Experiment:
        template = self.templates[template_id]  # KeyError: the API answers 404
        new_id = experiment_id()
        experiment = Experiment(
            new_id,
            f"arn:aws:fis:{self.region}:{self.account_id}:experiment/{new_id}",
            template,
            functions=self._functions(),
            injector=self.injector,
            alarm_states=self._alarm_states,
            tags={**template.tags, **(tags or {})},
            poll_seconds=self.poll_seconds,
            on_change=self._report,
        )
        with self._lock:
            self.experiments[new_id] = experiment
        experiment.begin()
        return experiment

    def _report(self, experiment: Experiment, line: str) -> None:
        self.say(f"FIS {experiment.template.name} {experiment.id}: {line}")

    def stop_all(self) -> None:
        """At the local cloud's stop: every experiment under way ends (stopped)."""
        for experiment in list(self.experiments.values()):
            experiment.request_stop()
        for experiment in list(self.experiments.values()):
            experiment.join(timeout=2)

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            experiments = list(self.experiments.values())
        return [experiment.summary() for experiment in experiments]
