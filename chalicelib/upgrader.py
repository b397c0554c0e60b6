"""The write loop: send the planner's write, and on a failed guard re-plan from the item as it
is now and try again, backing off with jitter.

Shared by the backfill (aggregates from its parallel scan) and the target table's stream handler
(aggregates from a consistent query), so both resolve races with the application the same way. All the
deciding is in ``chalicelib.planner.plan_upgrade``; this module only sends and retries.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.backoff import Backoff
from chalicelib.item_store import ItemWrites
from chalicelib.planner import Verdict, WritePlan, plan_upgrade, unmaintained
from chalicelib.schema import active_schema
from chalicelib.schema.rename import PairKnowledge, written_between

# Given the item as read, the aggregate values to write (name -> value; a name left out keeps
# the item's own).
CountSource = Callable[[Mapping[str, Any]], Mapping[str, Any]]
# Given the item as read, attributes to carry forward into it (see plan_upgrade's ``carry``).
CarrySource = Callable[[Mapping[str, Any]], Mapping[str, Any]]
# Given the item as read, what the write being upgraded says of each rename pair (plan_upgrade's
# ``written`` and ``deferred``: the live path, from its records).
WrittenSource = Callable[[Mapping[str, Any]], PairKnowledge]

MAX_ATTEMPTS = 5


class UpgradeResult(enum.Enum):
    UPGRADED = "upgraded"
    CURRENT = "current"  # already in the current shape: nothing written
    REFUSED = "refused"  # the rule cannot upgrade it; reasons say why
    GONE = "gone"  # deleted between read and write
    CONTENDED = "contended"  # kept changing under us for MAX_ATTEMPTS tries
    NEWER = "newer_version"  # written by a newer schema version than this code knows: left untouched


_RESULT_OF: dict[Verdict, UpgradeResult] = {
    Verdict.WRITE: UpgradeResult.UPGRADED,
    Verdict.CURRENT: UpgradeResult.CURRENT,
    Verdict.REFUSED: UpgradeResult.REFUSED,
    Verdict.NEWER: UpgradeResult.NEWER,
}


@dataclass
class UpgradeOutcome:
    result: UpgradeResult
    item_name: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)
    attempts: int = 0
    changes: dict[str, Any] = field(default_factory=dict)  # what was (or would be) SET
    removes: tuple[str, ...] = ()  # what was (or would be) REMOVEd
    settled: list[str] = field(default_factory=list)  # unclear outcomes found out (chalicelib.settle)


def outcome_of(plan: WritePlan, attempts: int = 1) -> UpgradeOutcome:
    """The outcome of carrying out ``plan`` (a dry run's outcome: the plan as if written)."""
    return UpgradeOutcome(
        _RESULT_OF[plan.verdict], plan.item_name, plan.before, plan.after, list(plan.reasons), attempts,
        dict(plan.changes), removes=plan.removes,
    )


def _nothing(*_args: object) -> None:
    return None


def upgrade_in_place(
    store: ItemWrites,
    item: Mapping[str, Any],
    *,
    count_source: CountSource,
    observed_at_ms: int | None = None,
    carry: CarrySource | None = None,
    written: WrittenSource | None = None,
    from_image: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: Backoff = Backoff(),  # noqa: B008 - immutable
    pace: Callable[[], None] = _nothing,
    announce: Callable[[WritePlan], None] = _nothing,
    settle: Callable[[WritePlan, str], None] = _nothing,
) -> UpgradeOutcome:
    """Upgrade the stored item whose last known state is ``item``.

    Each attempt plans from the item as last seen and sends the plan's conditional write.
    ``pace()`` runs before every write sent (the backfill's rate limit); ``announce(plan)``
    right before it (the backfill's ledger records the intent and ``plan.before``, the item as
    read, there: a crash can never hide a write from restore, and restore reverts to that state);
    ``settle(plan, how)`` after a write whose unclear outcome was found out by reading it back.
    ``from_image``: ``item`` is a stream record's image, not read from the table; a refusal for a
    rename pair out of step that no write decides is then judged again on the item as it is now
    (an earlier record may have settled that pair since the image was taken).
    """
    item_name = str(active_schema().key.describe(item))
    current: dict[str, Any] = dict(item)
    settled: list[str] = []
    known = PairKnowledge()  # the backfill's first read: no write known
    unread = from_image

    def plan_from(found: dict[str, Any]) -> WritePlan:
        knows = written(found) if written is not None else known
        return plan_upgrade(found, aggregates=count_source(found), observed_at_ms=observed_at_ms,
                            carry=carry(found) if carry is not None else None,
                            written=knows.written, deferred=knows.deferred)

    for attempt in range(1, max_attempts + 1):
        plan = plan_from(current)
        if plan.verdict is Verdict.REFUSED and plan.undecided and unread:
            unread, fresh = False, store.get(plan.item_name)
            if fresh is None:
                return UpgradeOutcome(UpgradeResult.GONE, item_name, current, attempts=attempt, settled=settled)
            current = fresh
            plan = plan_from(current)
        if plan.verdict is not Verdict.WRITE:
            return outcome_of(plan, attempt)
        pace()
        announce(plan)
        sent = store.conditional_set(plan.item_name, plan.changes, plan.guard, plan.removes)
        if sent.settled is not None:
            settled.append(sent.settled.value)
            settle(plan, sent.settled.value)
        if sent.written:
            return replace(outcome_of(plan, attempt), settled=settled)
        if sent.current is None:
            return UpgradeOutcome(UpgradeResult.GONE, item_name, current, attempts=attempt, settled=settled)
        # What the racing writes wrote of a renamed attribute (the live path knows from its records).
        known = PairKnowledge(written_between(current, sent.current, active_schema(), one_write=False))
        current, unread = sent.current, False
        if attempt < max_attempts:
            backoff.wait(attempt)
    return UpgradeOutcome(UpgradeResult.CONTENDED, item_name, current, attempts=max_attempts, settled=settled)


def keep_maintained_count(lookup: Callable[[str], int]) -> CountSource:
    """A source of the one aggregate (of the active declaration) that looks it up
    (``lookup(item name)``) only when the planner will use it (``keep_maintained``)."""
    return keep_maintained({a.name: lookup for a in active_schema().aggregates})


def keep_maintained(lookups: Mapping[str, Callable[[str], int]]) -> CountSource:
    """An aggregate source that looks each aggregate up (``lookups[name](item name)``) only when
    the planner will use it: an item whose value the aggregate mechanism maintains keeps its own."""

    def source(item: Mapping[str, Any]) -> Mapping[str, Any]:
        name = active_schema().key.name_of(item)
        if name is None:
            return {}  # refused by the rule for its key
        return {a.name: lookups[a.name](name) for a in unmaintained(item) if a.name in lookups}

    return source
