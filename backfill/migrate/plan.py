"""The migration plan: what the upgrade would do to each item, computed without any write.

The plan runs the very same ``upgrade_in_place`` the migration runs, against a store that
records the write instead of sending it, so a dry run can never disagree with a real run about
what is upgraded, what is already current and what is refused.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from backfill.migrate.tally import Tally, add_failure, add_outcome
from chalicelib.upgrader import CountSource, UpgradeOutcome, UpgradeResult, upgrade_in_place

ABSENT_MARK = "(absent)"


class _NoWriteStore:
    """An EventStore stand-in: every conditional write 'succeeds' and nothing is sent."""

    def conditional_set(self, event_id: str, changes: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
        return True

    def get(self, event_id: str, *, consistent: bool = True) -> None:  # pragma: no cover - never re-read
        raise AssertionError("a simulated write never conflicts")


@dataclass(frozen=True)
class ItemPlan:
    outcome: UpgradeOutcome
    changes: dict[str, Any]  # owned fields the write would SET (empty unless upgraded)

    @property
    def event_id(self) -> str:
        return self.outcome.event_id


def plan_item(item: Mapping[str, Any], count_source: CountSource) -> ItemPlan:
    """What migrating ``item`` (plain Python values) would do. Pure: no I/O."""
    captured: dict[str, Any] = {}
    outcome = upgrade_in_place(
        _NoWriteStore(),  # type: ignore[arg-type]
        item,
        count_source=count_source,
        before_write=lambda _event_id, changes: captured.update(changes),
    )
    return ItemPlan(outcome, captured)


def jsonable(value: Any) -> Any:
    """A readable JSON value for reports (owned fields are scalars; be safe with the rest)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=str)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3 Binary
        return base64.b64encode(value.value).decode("ascii")
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def diff(plan: ItemPlan) -> dict[str, Any]:
    """Before/after of only the owned fields the write would change."""
    before = plan.outcome.before or {}
    return {
        "eventId": plan.event_id,
        "changes": {
            name: {"before": jsonable(before[name]) if name in before else ABSENT_MARK, "after": jsonable(value)}
            for name, value in sorted(plan.changes.items())
        },
    }


@dataclass
class Plan:
    """A dry run's (or a confirmation's) summary of what a migration would do."""

    tally: Tally = field(default_factory=Tally)
    samples: list[dict[str, Any]] = field(default_factory=list)
    sample_limit: int = 3

    def add(self, plan: ItemPlan) -> None:
        add_outcome(self.tally, plan.outcome)
        if plan.outcome.result is UpgradeResult.UPGRADED and len(self.samples) < self.sample_limit:
            self.samples.append(diff(plan))

    def add_failure(self, event_id: str, reason: str) -> None:
        add_failure(self.tally, event_id, reason)

    @property
    def total(self) -> int:
        return self.tally.total

    @property
    def would_upgrade(self) -> int:
        return self.tally.count(UpgradeResult.UPGRADED.value)

    @property
    def current(self) -> int:
        return self.tally.count(UpgradeResult.CURRENT.value)

    @property
    def refused(self) -> int:
        return self.tally.count(UpgradeResult.REFUSED.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "would_upgrade": self.would_upgrade,
            "already_current": self.current,
            "refused": self.refused,
            "transitions": dict(sorted(self.tally.transitions.items())),
            "statuses_after": dict(sorted(self.tally.statuses.items())),
            "refused_items": self.tally.refused,
            "failed_items": self.tally.failed,
            "sample_diffs": self.samples,
            "participants": self.tally.participants.to_dict(),
        }


def build_plan(
    items: Iterable[Mapping[str, Any]],
    count_source: CountSource,
    *,
    samples: int = 3,
    observe: Callable[[Mapping[str, Any], ItemPlan], None] | None = None,
) -> Plan:
    """Plan every item of ``items`` (plain Python values). An item the rule crashes on is a failure.

    ``observe(item, item_plan)`` sees each planned item (the dry run's cost estimate)."""
    plan = Plan(sample_limit=samples)
    for item in items:
        try:
            item_plan = plan_item(item, count_source)
            plan.add(item_plan)
        except Exception as error:  # a bug in the rule must name the item, not abort the plan
            plan.add_failure(str(item.get("eventId")), f"{type(error).__name__}: {error}")
            continue
        if observe is not None:
            observe(item, item_plan)
    return plan
