"""The graph of a state machine definition, each state with what happened to it in one run.

The definition is the one the run executed (DescribeStateMachineForExecution), not the
state machine as it is now. Outcomes come from the run's events (history.analyse rows):

- not reached: the state was never entered;
- running: entered and not yet left while the execution runs;
- succeeded / failed: how its last entry ended (a Fail state fails by definition);
- caught: its last try failed and a Catch moved the execution on to another state;
- retried n times: tries beyond the first within its entries, shown with the outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ftb.ops.commands.history import _FAILED_TRY, _SCHEDULED, Row

START, END = "__start__", "__end__"
OUTCOMES = ("succeeded", "failed", "caught", "running", "not reached")


@dataclass
class Node:
    id: str
    type: str
    outcome: str = "not reached"
    retries: int = 0
    tries: int = 0
    entries: int = 0
    error: str | None = None

    @property
    def label(self) -> str:
        text = self.outcome
        if self.retries:
            text += f" · retried {self.retries}x"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "outcome": self.outcome,
            "retries": self.retries,
            "tries": self.tries,
            "entries": self.entries,
            "error": self.error,
            "label": self.label,
        }


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # next | catch | choice | default | end | start
    label: str = ""


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [node.to_json() for node in self.nodes],
            "edges": [edge.__dict__ for edge in self.edges],
            "outcomes": list(OUTCOMES),
        }


def parse_definition(definition: str | dict[str, Any]) -> dict[str, Any]:
    parsed = json.loads(definition) if isinstance(definition, str) else definition
    if not isinstance(parsed, dict) or not isinstance(parsed.get("States"), dict):
        raise ValueError("not an Amazon States Language definition (no States)")
    return parsed


def structure(definition: dict[str, Any]) -> Graph:
    """Nodes and edges of the top level (a Parallel or Map state is one node)."""
    graph = Graph()
    states: dict[str, Any] = definition["States"]
    graph.nodes.append(Node(START, "Start", outcome="succeeded"))
    graph.edges.append(Edge(START, str(definition.get("StartAt")), "start"))
    ends = False
    for name, state in states.items():
        kind = str(state.get("Type", "?"))
        graph.nodes.append(Node(name, kind))
        if state.get("Next"):
            graph.edges.append(Edge(name, state["Next"], "next"))
        if state.get("End") or kind in {"Succeed", "Fail"}:
            graph.edges.append(Edge(name, END, "end"))
            ends = True
        for catcher in state.get("Catch", []) or []:
            errors = ", ".join(catcher.get("ErrorEquals", []))
            graph.edges.append(Edge(name, catcher["Next"], "catch", f"catch {errors}"))
        for choice in state.get("Choices", []) or []:
            if choice.get("Next"):
                graph.edges.append(Edge(name, choice["Next"], "choice", "choice"))
        if state.get("Default"):
            graph.edges.append(Edge(name, state["Default"], "default", "default"))
    if ends:
        graph.nodes.append(Node(END, "End"))
    return graph


def with_outcomes(graph: Graph, rows: list[Row], execution_status: str) -> Graph:
    """Set each state's outcome from the run's events."""
    nodes = {node.id: node for node in graph.nodes}
    last_try_failed: dict[str, bool] = {}
    open_entry: dict[str, bool] = {}
    order: list[str] = []  # states in the order they were entered
    for row in rows:
        node = nodes.get(row.step or "")
        if node is None:
            continue
        if row.type.endswith("StateEntered"):
            node.entries += 1
            open_entry[node.id] = True
            last_try_failed[node.id] = False
            order.append(node.id)
        elif row.type.endswith("StateExited"):
            open_entry[node.id] = False
        elif row.type in _SCHEDULED:
            node.tries += 1
        if row.type in _FAILED_TRY:
            last_try_failed[node.id] = True
            node.error = row.error
        elif row.type.endswith(("Succeeded",)) and row.step:
            last_try_failed[node.id] = False
    for node in graph.nodes:
        if node.id in (START, END):
            continue
        node.retries = max(0, node.tries - node.entries)
        if node.entries == 0:
            continue
        node.outcome = _outcome(
            node,
            moved_on=bool(order) and order[-1] != node.id,
            failed_last=last_try_failed.get(node.id, False),
            still_open=open_entry.get(node.id, False),
            execution_status=execution_status,
        )
    end = nodes.get(END)
    if end is not None and execution_status != "RUNNING":
        end.outcome = "succeeded" if execution_status == "SUCCEEDED" else "failed"
    return graph


def _outcome(
    node: Node, *, moved_on: bool, failed_last: bool, still_open: bool, execution_status: str
) -> str:
    """A state's outcome, once entered: how its last try ended and whether the run moved on."""
    if node.type == "Fail":
        return "failed"
    if failed_last:
        return "caught" if moved_on else "failed"
    if still_open and execution_status in ("RUNNING", "PENDING_REDRIVE"):
        return "running"
    if still_open and not moved_on:
        return "failed" if execution_status != "SUCCEEDED" else "succeeded"
    return "succeeded"


def run_graph(definition: str | dict[str, Any], rows: list[Row], execution_status: str) -> Graph:
    return with_outcomes(structure(parse_definition(definition)), rows, execution_status)
