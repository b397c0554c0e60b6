"""The migration plan: what the upgrade would do to each item, computed without any write.

The plan asks the same pure planner (``chalicelib.planner.plan_upgrade``) that the migration's
write loop asks before each write, so a dry run can never disagree with a real run about what
is upgraded, what is already current and what is refused.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from backfill.run.tally import Tally, add_failure, add_outcome
from chalicelib.planner import plan_upgrade
from chalicelib.schema import active_schema
from chalicelib.upgrader import CountSource, UpgradeOutcome, UpgradeResult, outcome_of

ABSENT_MARK = "(absent)"


def plan_item(item: Mapping[str, Any], count_source: CountSource) -> UpgradeOutcome:
    """What migrating ``item`` (plain Python values) would do: the planner's verdict. No I/O."""
    return outcome_of(plan_upgrade(item, aggregates=count_source(item)))


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


def diff(plan: UpgradeOutcome) -> dict[str, Any]:
    """Before/after of only the owned fields the write would change: SET ones, and REMOVEd ones
    (after: absent)."""
    before = plan.before or {}
    after = {**plan.changes, **{name: ABSENT_MARK for name in plan.removes}}
    return {
        active_schema().key.label: plan.item_name,
        "changes": {
            name: {
                "before": jsonable(before[name]) if name in before else ABSENT_MARK,
                "after": value if name in plan.removes else jsonable(value),
            }
            for name, value in sorted(after.items())
        },
    }


@dataclass
class Plan:
    """A dry run's (or a confirmation's) summary of what a migration would do."""

    tally: Tally = field(default_factory=Tally)
    samples: list[dict[str, Any]] = field(default_factory=list)
    sample_limit: int = 3
    field_writes: Counter[str] = field(default_factory=Counter)  # "SET summary", "REMOVE description": items

    def add(self, plan: UpgradeOutcome) -> None:
        add_outcome(self.tally, plan)
        if plan.result is UpgradeResult.UPGRADED:
            self.field_writes.update([*(f"SET {name}" for name in plan.changes), *(f"REMOVE {name}" for name in plan.removes)])
        if plan.result is UpgradeResult.UPGRADED and len(self.samples) < self.sample_limit:
            self.samples.append(diff(plan))

    def add_failure(self, item_name: str, reason: str) -> None:
        add_failure(self.tally, item_name, reason)

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
            "newer_version": self.tally.count(UpgradeResult.NEWER.value),
            "writes_per_field": dict(sorted(self.field_writes.items())),
            "transitions": dict(sorted(self.tally.transitions.items())),
            "statuses_after": dict(sorted(self.tally.statuses.items())),
            "refused_items": self.tally.refused,
            "failed_items": self.tally.failed,
            "sample_diffs": self.samples,
            "aggregate": self.tally.aggregate.to_dict(),
        }


def build_plan(
    items: Iterable[Mapping[str, Any]],
    count_source: CountSource,
    *,
    samples: int = 3,
    observe: Callable[[Mapping[str, Any], UpgradeOutcome], None] | None = None,
) -> Plan:
    """Plan every item of ``items`` (plain Python values). An item the rule crashes on is a failure.

    ``observe(item, item_plan)`` sees each planned item (the dry run's cost estimate)."""
    plan = Plan(sample_limit=samples)
    for item in items:
        try:
            item_plan = plan_item(item, count_source)
            plan.add(item_plan)
        except Exception as error:  # a bug in the rule must name the item, not abort the plan
            plan.add_failure(str(active_schema().key.describe(item)), f"{type(error).__name__}: {error}")
            continue
        if observe is not None:
            observe(item, item_plan)
    return plan


def plan_state(plan: Plan) -> dict[str, Any]:
    """What a prepared segment leaves for the parent: its plan's tally and sample diffs."""
    return {"tally": plan.tally.to_dict(), "samples": plan.samples, "sample_limit": plan.sample_limit,
            "field_writes": dict(plan.field_writes)}


def combine_plans(states: Sequence[dict[str, Any]]) -> Plan:
    """One plan for the whole run from its segments' ``plan_state``s (counts summed, lists joined,
    sample diffs up to the limit, segment order)."""
    limit = max((int(state.get("sample_limit", 3)) for state in states), default=3)
    plan = Plan(sample_limit=limit)
    for state in states:
        plan.tally.merge(Tally.from_dict(state["tally"]))
        plan.samples.extend(state["samples"][: max(0, limit - len(plan.samples))])
        plan.field_writes.update(state.get("field_writes", {}))
    return plan
