"""``validate_event``: every reason an item is not a valid current-version event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.schema.fields import (
    CURRENT_VERSION,
    OPTIONAL_STRING_FIELDS,
    STARTED_STATUSES,
    STATUSES,
    VISIBILITIES,
)
from chalicelib.schema.values import as_count, as_timestamp


def validate_event(item: Mapping[str, Any]) -> list[str]:
    """Return the problems that keep ``item`` from being a valid current event ([] when valid)."""
    problems: list[str] = []
    event_id = item.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        problems.append(f"eventId is not a non-empty string: {event_id!r}")
    version = item.get("schemaVersion")
    if as_count(version) != CURRENT_VERSION:
        problems.append(f"schemaVersion is {version!r}, expected {CURRENT_VERSION}")
    status = item.get("status")
    if status not in STATUSES:
        problems.append(f"status {status!r} is not one of {sorted(STATUSES)}")
    if item.get("visibility") not in VISIBILITIES:
        problems.append(f"visibility {item.get('visibility')!r} is not private|public")
    if not isinstance(item.get("isTemplate"), bool):
        problems.append(f"isTemplate {item.get('isTemplate')!r} is not a boolean")
    if "name" in item and not isinstance(item["name"], str):
        problems.append(f"name is not a string: {item['name']!r}")
    for field in OPTIONAL_STRING_FIELDS:
        if field in item and not isinstance(item[field], str):
            problems.append(f"{field} is not a string: {item[field]!r}")
    if as_count(item.get("participantCount")) is None:
        problems.append(f"participantCount {item.get('participantCount')!r} is not a non-negative integer")

    created = as_timestamp(item.get("createdAt"))
    if created is None:
        problems.append(f"createdAt {item.get('createdAt')!r} is not a non-negative integer (ms)")
    stamps = {}
    for field in ("lastModified", "startedAt", "completedAt"):
        if field in item:
            stamps[field] = as_timestamp(item[field])
            if stamps[field] is None:
                problems.append(f"{field} {item[field]!r} is not a non-negative integer (ms)")
    if "lastModified" not in item:
        problems.append("lastModified is missing")
    if status in STARTED_STATUSES and "startedAt" not in item:
        problems.append(f"startedAt is missing for status {status}")
    if status == "completed" and "completedAt" not in item:
        problems.append("completedAt is missing for status completed")
    started, completed = stamps.get("startedAt"), stamps.get("completedAt")
    if created is not None and started is not None and started < created:
        problems.append(f"startedAt {started} is before createdAt {created}")
    if started is not None and completed is not None and completed < started:
        problems.append(f"completedAt {completed} is before startedAt {started}")
    if completed is not None and "startedAt" not in item:
        problems.append("completedAt is set but startedAt is not")
    return problems
