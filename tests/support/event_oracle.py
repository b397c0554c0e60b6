"""A hand-written judge of a migrated event, for tests: the v2 shape written out here from the
design, sharing no code with the upgrade rule (``chalicelib.schema``) it judges.

v2: eventId, createdAt (ms), status in the workflow draft -> setup -> live -> completed (legacy
waiting -> setup, active -> live), visibility private|public, isTemplate, lastModified, startedAt
once live, completedAt once completed (never before createdAt / startedAt), participantCount,
schemaVersion 2. The migration owns the fields in OWNED and writes no other attribute.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any

OWNED = frozenset({"status", "visibility", "isTemplate", "lastModified", "startedAt", "completedAt",
                   "participantCount", "countVersion", "schemaVersion"})
LEGACY_STATUS = {"waiting": "setup", "active": "live", "completed": "completed"}
WORKFLOW = ("draft", "setup", "live", "completed")
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
DAY_MS = 86_400_000


def _whole(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == int(value)


def _timestamp(value: Any) -> bool:
    return _whole(value) and EARLIEST_MS <= int(value) <= time.time() * 1000 + DAY_MS


def event_problems(item: Mapping[str, Any], original: Mapping[str, Any] | None = None,
                   app_changed: Set[str] = frozenset()) -> list[str]:
    """Every way ``item`` is not a v2 event (empty: it is one). Given the ``original`` old-shape
    row, its status must be the legacy status's v2 name, unless the app changed the status since."""
    problems = _field_problems(item) + _date_problems(item)
    if original is not None and "status" not in app_changed and "*" not in app_changed:
        expected = LEGACY_STATUS.get(original.get("status"), original.get("status"))
        if item.get("status") != expected:
            problems.append(f"status {item.get('status')!r}: the old row's {original.get('status')!r} is {expected!r}")
    return problems


def _field_problems(item: Mapping[str, Any]) -> list[str]:
    problems = []
    if not (isinstance(item.get("eventId"), str) and item["eventId"]):
        problems.append("eventId missing")
    if item.get("schemaVersion") != 2:
        problems.append(f"schemaVersion {item.get('schemaVersion')!r}, not 2")
    if item.get("status") not in WORKFLOW:
        problems.append(f"status {item.get('status')!r} not in the workflow")
    if item.get("visibility") not in ("private", "public"):
        problems.append(f"visibility {item.get('visibility')!r}")
    if not isinstance(item.get("isTemplate"), bool):
        problems.append(f"isTemplate {item.get('isTemplate')!r} is not a boolean")
    count = item.get("participantCount")
    if not (_whole(count) and count >= 0):
        problems.append(f"participantCount {count!r} is not a count")
    return problems


def _date_problems(item: Mapping[str, Any]) -> list[str]:
    problems = [f"{name} {item.get(name)!r} is not a plausible timestamp"
                for name in ("createdAt", "lastModified") if not _timestamp(item.get(name))]
    status = item.get("status")
    reached = WORKFLOW.index(status) if status in WORKFLOW else -1
    for name, needed_from, after in (("startedAt", "live", "createdAt"), ("completedAt", "completed", "startedAt")):
        value = item.get(name)
        if value is None:
            if reached >= WORKFLOW.index(needed_from):
                problems.append(f"{name} missing for status {status}")
        elif not _timestamp(value):
            problems.append(f"{name} {value!r} is not a plausible timestamp")
        elif _timestamp(item.get(after)) and value < item[after]:
            problems.append(f"{name} before {after}")
    return problems
