"""CloudWatch Logs: every log group (with its retention), its streams and their events."""

from __future__ import annotations

from typing import Any

from ftb.localcloud.moto_internals import backends
from ftb.localcloud.moto_internals.logs import new_log_event


def capture(region: str, seen: dict[int, list[Any]] | None = None) -> dict[str, Any]:
    """`seen`: each stream's events as captured by earlier checkpoints, by stream object.
    Events are only ever appended (a restore prepends before anything is captured), so a
    checkpoint converts only the new ones."""
    backend = backends.logs(region)
    seen = {} if seen is None else seen
    groups = {}
    for name, group in list(backend.groups.items()):
        streams = {}
        for stream_name, stream in list(group.streams.items()):
            events = list(stream.events)
            known = seen.get(id(stream))
            if known is None or known[0] is not stream or len(known[1]) > len(events):
                known = [stream, []]
            converted: list[Any] = known[1]
            if len(events) > len(converted):
                converted = converted + [
                    [event.timestamp, event.ingestion_time, event.message]
                    for event in events[len(converted) :]
                ]
            seen[id(stream)] = [stream, converted]
            streams[stream_name] = converted
        groups[name] = {"retentionInDays": group.retention_in_days, "streams": streams}
    return {"groups": groups}


def event_count(document: dict[str, Any]) -> int:
    return sum(
        len(events) for group in document["groups"].values() for events in group["streams"].values()
    )


def restore(document: dict[str, Any], region: str, seen: dict[int, list[Any]] | None = None) -> int:
    """Groups the template did not create (a function's default group) are created. `seen`
    learns the restored events, so the next checkpoint does not convert them again."""
    backend = backends.logs(region)
    restored = 0
    for name, saved in document["groups"].items():
        group = backend.groups.get(name)
        if group is None:
            kwargs = {}
            if saved["retentionInDays"] is not None:
                kwargs["RetentionInDays"] = saved["retentionInDays"]
            group = backend.create_log_group(name, {}, **kwargs)
        for stream_name, events in saved["streams"].items():
            if stream_name not in group.streams:
                group.create_log_stream(stream_name)
            stream = group.streams[stream_name]
            restored_events = [
                new_log_event(ingestion, timestamp, message)
                for timestamp, ingestion, message in events
            ]
            was_empty = not stream.events
            stream.events[:0] = restored_events  # before anything logged since the start
            if seen is not None and was_empty:
                seen[id(stream)] = [stream, events]
            stream.stored_bytes += sum(len(event.message) for event in restored_events)
            if stream.events:
                stream._update()
            restored += len(restored_events)
    return restored
