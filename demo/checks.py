"""Independent checks of the tables: a fresh consistent scan, counted and compared by hand.

Participant counts come from counting scanned rows here, not from the project's counting, and
snapshots are compared attribute for attribute with ``==`` on plain Python values. Rows are judged
by ``problems`` and ``owned``: the demo passes the project's own rule, the tests a hand-written
judge (tests/support/event_oracle.py) that shares no code with the rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from chalicelib.items import to_python
from chalicelib.schema import CURRENT, validate_item

# Judges a row: (item, the old row it came from or None, attributes the app changed since) -> problems.
Problems = Callable[[Mapping[str, Any], "Mapping[str, Any] | None", Set[str]], list[str]]


def snapshot(dynamodb: Any, table: str, key: str = "eventId") -> dict[Any, dict[str, Any]]:
    """Every item of ``table`` (consistent scan) keyed by ``key`` (or (eventId, participantId))."""
    items: dict[Any, dict[str, Any]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for typed in page["Items"]:
            item = to_python(typed)
            items[item[key] if key else (item["eventId"], item["participantId"])] = item
    return items


def participant_counts(dynamodb: Any, table: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table, ConsistentRead=True, ProjectionExpression="eventId"
    ):
        counts.update(row["eventId"]["S"] for row in page["Items"])
    return counts


@dataclass
class TableCheck:
    """What a fresh look at the tables found; ``ok`` when nothing is lost, wrong or unexplained."""

    events: int = 0
    upgraded: int = 0
    lost: list[str] = field(default_factory=list)  # expected events no longer in the table
    wrong_counts: list[tuple[str, Any, int]] = field(default_factory=list)  # (id, stored, fresh)
    not_upgraded: list[tuple[str, list[str]]] = field(default_factory=list)  # (id, problems)
    altered: list[tuple[str, str]] = field(default_factory=list)  # (id, attribute) changed by us

    @property
    def ok(self) -> bool:
        return not (self.lost or self.wrong_counts or self.not_upgraded or self.altered)

    def summary(self) -> str:
        return (
            f"{self.events} events, {self.upgraded} current, lost {len(self.lost)}, "
            f"counts wrong {len(self.wrong_counts)}, not upgraded {len(self.not_upgraded)}, "
            f"foreign attributes altered {len(self.altered)}"
        )


def check_tables(
    dynamodb: Any,
    events_table: str,
    participants_table: str,
    *,
    originals: Mapping[str, Mapping[str, Any]] = {},
    refused: Iterable[str] = (),
    app_owned: Mapping[str, Iterable[str]] = {},
    problems: Problems | None = None,
    owned: Set[str] | None = None,
) -> TableCheck:
    """Check every event in the table against a fresh count and the original rows.

    ``originals``: eventId -> the row as written by the app (must still exist, with every
    attribute the migration does not own unchanged, except those named in ``app_owned[eventId]``
    that the app itself changed since). ``refused``: ids the upgrade rule must refuse: they stay
    invalid, so they are only checked for presence and unchanged non-owned attributes.
    ``problems(item, original, app_changed)`` judges a row and ``owned`` names the attributes the
    migration may write (default: the project's rule and its declaration).
    """
    judge = problems or _project_rule
    owned_fields = CURRENT.owned if owned is None else owned
    refused = set(refused)
    events = snapshot(dynamodb, events_table)
    counts = participant_counts(dynamodb, participants_table)
    check = TableCheck(events=len(events))
    check.lost = sorted(set(originals) - set(events))
    for event_id, item in sorted(events.items()):
        if event_id in refused:
            continue
        found = judge(item, originals.get(event_id), set(app_owned.get(event_id, ())))
        if found:
            check.not_upgraded.append((event_id, found))
            continue
        check.upgraded += 1
        fresh = counts.get(event_id, 0)
        if item.get("participantCount") != fresh:
            check.wrong_counts.append((event_id, item.get("participantCount"), fresh))
    for event_id, original in originals.items():
        stored = events.get(event_id)
        if stored is None:
            continue
        changed_by_app = set(app_owned.get(event_id, ()))
        for name in set(original) | set(stored):
            if name in owned_fields or name in changed_by_app:
                continue
            if original.get(name, _ABSENT) != stored.get(name, _ABSENT):
                check.altered.append((event_id, name))
    return check


def _project_rule(item: Mapping[str, Any], _original: Mapping[str, Any] | None, _app_changed: Set[str]) -> list[str]:
    return validate_item(item)


_ABSENT = object()
