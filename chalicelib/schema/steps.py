"""Versioned upgrade steps. Each step takes an item at ``from_version`` to ``to_version``.

The next schema change adds a step here (2 -> 3) and everything else (backfill, stream
handlers, verify, restore) picks it up through ``upgrade_event``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.schema.fields import (
    LEGACY_STATUS_MAP,
    OPTIONAL_STRING_FIELDS,
    STARTED_STATUSES,
    STATUSES,
    VISIBILITIES,
)
from chalicelib.schema.values import as_count, as_timestamp


@dataclass(frozen=True)
class UpgradeContext:
    """What a step may know beyond the item itself.

    participant_count: exact count to write, or None to keep the item's own.
    observed_at_ms: when the write being upgraded happened (stream record time); None in the
        backfill, where createdAt is the only trustworthy date.
    """

    participant_count: int | None = None
    observed_at_ms: int | None = None


@dataclass(frozen=True)
class Step:
    from_version: int
    to_version: int
    apply: Callable[[dict[str, Any], UpgradeContext, list[str]], dict[str, Any]]


def _to_v2(item: dict[str, Any], ctx: UpgradeContext, problems: list[str]) -> dict[str, Any]:
    """Legacy (v1) -> v2: new status workflow, visibility, template flag, dates and count.

    Also repairs a v2 item that an old writer touched (legacy status value, dropped fields):
    every owned field already holding a valid value is kept as it is.
    """
    out = dict(item)
    created_at = as_timestamp(item.get("createdAt"))
    if "createdAt" not in item:
        problems.append("createdAt is missing")
    elif created_at is None:
        problems.append(f"createdAt is not a non-negative integer (ms): {item['createdAt']!r}")

    raw_status = item.get("status")
    if raw_status is None:
        problems.append("status is missing")
        status = None
    elif not isinstance(raw_status, str):
        problems.append(f"status is not a string: {raw_status!r}")
        status = None
    elif raw_status in LEGACY_STATUS_MAP:
        status = LEGACY_STATUS_MAP[raw_status]
    elif raw_status in STATUSES:
        status = raw_status
    else:
        problems.append(f"unknown status {raw_status!r}")
        status = None

    if "name" in item and not isinstance(item["name"], str):
        problems.append(f"name is not a string: {item['name']!r}")
    for field in OPTIONAL_STRING_FIELDS:
        if field in item and not isinstance(item[field], str):
            problems.append(f"{field} is not a string: {item[field]!r}")
    if "visibility" in item and item["visibility"] not in VISIBILITIES:
        problems.append(f"visibility is not private|public: {item['visibility']!r}")
    if "isTemplate" in item and not isinstance(item["isTemplate"], bool):
        problems.append(f"isTemplate is not a boolean: {item['isTemplate']!r}")
    for field in ("lastModified", "startedAt", "completedAt"):
        if field in item and as_timestamp(item[field]) is None:
            problems.append(f"{field} is not a non-negative integer (ms): {item[field]!r}")
    if (
        "participantCount" in item
        and as_count(item["participantCount"]) is None
        and ctx.participant_count is None
    ):
        problems.append(f"participantCount is not a non-negative integer: {item['participantCount']!r}")
    if problems or status is None or created_at is None:
        return out
    if ctx.participant_count is None and "participantCount" not in item:
        raise ValueError(
            f"event {item.get('eventId')!r} has no participantCount: pass participant_count"
        )

    observed = ctx.observed_at_ms
    out["status"] = status
    out.setdefault("visibility", "private")
    out.setdefault("isTemplate", False)
    if "lastModified" not in item:
        out["lastModified"] = max(created_at, observed) if observed is not None else created_at
    if status in STARTED_STATUSES and "startedAt" not in item:
        out["startedAt"] = max(created_at, observed) if observed is not None else created_at
    if status == "completed" and "completedAt" not in item:
        started = as_timestamp(out["startedAt"])
        if started is None:
            problems.append(f"startedAt is not a non-negative integer (ms): {out['startedAt']!r}")
            return out
        out["completedAt"] = max(started, observed) if observed is not None else started
    if ctx.participant_count is not None:
        out["participantCount"] = ctx.participant_count
    out["schemaVersion"] = 2

    started_at = as_timestamp(out.get("startedAt"))
    completed_at = as_timestamp(out.get("completedAt"))
    if started_at is not None and started_at < created_at:
        problems.append(f"startedAt {started_at} is before createdAt {created_at}")
    if completed_at is not None and started_at is not None and completed_at < started_at:
        problems.append(f"completedAt {completed_at} is before startedAt {started_at}")
    if completed_at is not None and started_at is None:
        problems.append("completedAt is set but startedAt is not")
    return out


STEPS: tuple[Step, ...] = (Step(1, 2, _to_v2),)
