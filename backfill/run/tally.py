"""Running totals of a migration (or of its plan): mergeable and JSON round-trippable.

The checkpoint stores one tally per segment for the items it finished, so a resumed run's
report still covers the whole run, including refusals and failures seen before the crash.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chalicelib.schema import active_schema
from chalicelib.upgrader import UpgradeOutcome, UpgradeResult

FAILED = "failed"  # result name of an item whose write raised


@dataclass
class AggregateStats:
    """The declaration's (first) aggregate over the items that end valid (upgraded or already
    current): its distribution, for the report. JSON names the aggregate (``"name"``)."""

    items: int = 0
    nonzero: int = 0
    total: int = 0
    max: int = 0

    def add(self, value: int) -> None:
        self.items += 1
        self.total += value
        self.max = max(self.max, value)
        if value > 0:
            self.nonzero += 1

    def merge(self, other: AggregateStats) -> None:
        self.items += other.items
        self.nonzero += other.nonzero
        self.total += other.total
        self.max = max(self.max, other.max)

    @property
    def average(self) -> float:
        return round(self.total / self.items, 2) if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        aggregates = active_schema().aggregates
        return {
            "name": aggregates[0].name if aggregates else None,
            "items": self.items,
            "items_not_zero": self.nonzero,
            "total": self.total,
            "average": self.average,
            "max": self.max,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AggregateStats:
        return cls(data["items"], data["items_not_zero"], data["total"], data["max"])


@dataclass
class Tally:
    results: Counter[str] = field(default_factory=Counter)  # e.g. upgraded / current / refused
    transitions: Counter[str] = field(default_factory=Counter)  # "waiting->setup"
    statuses: Counter[str] = field(default_factory=Counter)  # status after, valid items only
    refused: list[dict[str, Any]] = field(default_factory=list)  # {<key label>, "reasons"} (``Key.label``)
    failed: list[dict[str, Any]] = field(default_factory=list)  # {<key label>, "reasons"} (``Key.label``)
    contended: list[dict[str, Any]] = field(default_factory=list)  # {<key label>, "reasons"} (``Key.label``)
    aggregate: AggregateStats = field(default_factory=AggregateStats)
    settled: Counter[str] = field(default_factory=Counter)  # unclear write outcomes, found out

    @property
    def total(self) -> int:
        return sum(self.results.values())

    def count(self, result: str) -> int:
        return self.results.get(result, 0)

    def merge(self, other: Tally) -> None:
        self.results.update(other.results)
        self.transitions.update(other.transitions)
        self.statuses.update(other.statuses)
        self.refused.extend(other.refused)
        self.failed.extend(other.failed)
        self.contended.extend(other.contended)
        self.aggregate.merge(other.aggregate)
        self.settled.update(other.settled)

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": dict(sorted(self.results.items())),
            "transitions": dict(sorted(self.transitions.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "refused": self.refused,
            "failed": self.failed,
            "contended": self.contended,
            "aggregate": self.aggregate.to_dict(),
            "settled": dict(sorted(self.settled.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        return cls(
            results=Counter(data["results"]),
            transitions=Counter(data["transitions"]),
            statuses=Counter(data["statuses"]),
            refused=list(data["refused"]),
            failed=list(data["failed"]),
            contended=list(data["contended"]),
            aggregate=AggregateStats.from_dict(data["aggregate"]),
            settled=Counter(data.get("settled", {})),
        )


def merged(tallies: list[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def add_outcome(tally: Tally, outcome: UpgradeOutcome) -> None:
    """Count one item's upgrade outcome (real, or simulated by a dry run)."""
    schema = active_schema()
    tally.results[outcome.result.value] += 1
    tally.settled.update(outcome.settled)
    workflow = schema.status_field is not None  # without one there are no statuses to count
    if outcome.result is UpgradeResult.UPGRADED and workflow:
        before, after = outcome.before or {}, outcome.after or {}
        tally.transitions[f"{schema.status(before)}->{schema.status(after)}"] += 1
    if outcome.result in (UpgradeResult.UPGRADED, UpgradeResult.CURRENT):
        after = outcome.after or {}
        if workflow:
            tally.statuses[str(schema.status(after))] += 1
        if schema.aggregates:  # the first aggregate's distribution (the report's count section)
            tally.aggregate.add(int(after.get(schema.aggregates[0].name, 0)))
    elif outcome.result is UpgradeResult.REFUSED:
        tally.refused.append({schema.key.label: outcome.item_name, "reasons": list(outcome.reasons)})
    elif outcome.result is UpgradeResult.CONTENDED:
        tally.contended.append(
            {schema.key.label: outcome.item_name, "reasons": [f"changed concurrently on all {outcome.attempts} attempts"]}
        )


def add_failure(tally: Tally, item_name: str, reason: str) -> None:
    """Count an item whose upgrade raised (after botocore's own retries)."""
    tally.results[FAILED] += 1
    tally.failed.append({active_schema().key.label: item_name, "reasons": [reason]})
