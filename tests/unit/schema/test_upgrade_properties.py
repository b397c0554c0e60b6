"""Properties of the upgrade rule and the planner over generated items (hypothesis).

The generators build legacy (v1) and partly upgraded items from the schema's *documented*
vocabulary, written out here (not read from the declaration under test), with unowned
attributes over DynamoDB's whole value space. Most are upgradable; a share is damaged on
purpose. ``hypothesis.event`` records the mix each run produced (``pytest --hypothesis-show-statistics``).
Results are judged by the hand-written checker and owned set of tests/support/event_oracle.py, not
by the declaration under test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from chalicelib.items import to_python
from chalicelib.planner import ABSENT, Verdict, plan_upgrade
from chalicelib.schema import UpgradeRefused, upgrade_item, validate_item
from tests.strategies import unowned_attributes
from tests.support.event_oracle import OWNED, event_problems

NOW = 1_764_000_000_000  # the clock the rule is given: 2025-11-24
Y2K = 946_684_800_000
LEGACY_STATUSES = {"waiting": "setup", "active": "live", "completed": "completed"}
CURRENT_STATUSES = ("draft", "setup", "live", "completed")
SCHEMA_NAMES = frozenset({"eventId", "name", "topic", "description", "createdAt", "status", "visibility",
                          "isTemplate", "lastModified", "startedAt", "completedAt", "participantCount",
                          "countVersion", "schemaVersion"})

times = st.integers(Y2K, NOW)


@st.composite
def upgradable_items(draw: st.DrawFn) -> dict[str, Any]:
    """A legacy event, or one an old writer touched after it was upgraded: always upgradable."""
    created = draw(times)
    status = draw(st.sampled_from([*LEGACY_STATUSES, *CURRENT_STATUSES]))
    item: dict[str, Any] = {
        "eventId": draw(st.text(min_size=1, max_size=12)),
        "status": status,
        "createdAt": Decimal(created),
        **to_python(draw(unowned_attributes(SCHEMA_NAMES, max_size=3))),
    }
    optional = {
        "name": st.text(max_size=8),
        "topic": st.text(max_size=8),
        "visibility": st.sampled_from(["private", "public"]),
        "isTemplate": st.booleans(),
        "lastModified": st.integers(created, NOW).map(Decimal),
        "participantCount": st.integers(0, 10**6).map(Decimal),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            item[name] = draw(values)
    mapped = LEGACY_STATUSES.get(status, status)
    if mapped in ("live", "completed") and draw(st.booleans()):
        item["startedAt"] = Decimal(draw(st.integers(created, NOW)))
        if mapped == "completed" and draw(st.booleans()):
            item["completedAt"] = Decimal(draw(st.integers(int(item["startedAt"]), NOW)))
    if draw(st.booleans()):
        item["schemaVersion"] = Decimal(draw(st.sampled_from([1, 2])))
    event(f"status {status}; schemaVersion {item.get('schemaVersion', 'absent')}")
    return item


DAMAGES = {
    "createdAt in seconds": lambda item: {**item, "createdAt": Decimal(int(item["createdAt"]) // 1000)},
    "createdAt missing": lambda item: {k: v for k, v in item.items() if k != "createdAt"},
    "unknown status": lambda item: {**item, "status": "archived"},
    "isTemplate not a boolean": lambda item: {**item, "isTemplate": Decimal(0)},
    "startedAt before createdAt": lambda item: {**item, "status": "live", "startedAt": item["createdAt"] - 1},
    "newer schemaVersion": lambda item: {**item, "schemaVersion": Decimal(9)},
}


@st.composite
def mixed_items(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """Three in four upgradable, one in four damaged in one known way (named)."""
    item = draw(upgradable_items())
    if draw(st.integers(0, 3)) > 0:
        return item, None
    damage = draw(st.sampled_from(sorted(DAMAGES)))
    return DAMAGES[damage](item), damage


counts = st.integers(0, 10**6)
observed = st.one_of(st.none(), st.integers(Y2K, NOW))


@settings(max_examples=300, deadline=None)
@given(upgradable_items(), counts, observed)
def test_upgradable_items_upgrade_validly_idempotently_and_keep_what_they_do_not_own(item, count, at):
    upgraded = upgrade_item(item, aggregates={"participantCount": count}, observed_at_ms=at, now_ms=NOW)
    # valid (by the hand-written judge, and by the rule's own check), and a second upgrade (with or
    # without the context) changes nothing
    assert event_problems(upgraded, item) == [] and validate_item(upgraded, now_ms=NOW) == []
    assert upgrade_item(upgraded, now_ms=NOW) == upgraded
    assert upgrade_item(upgraded, aggregates={"participantCount": count}, observed_at_ms=at, now_ms=NOW) == upgraded
    # every attribute it does not own is kept, value and type; only owned ones are added
    for name, original in item.items():
        if name not in OWNED:
            assert upgraded[name] == original and type(upgraded[name]) is type(original)
    assert set(upgraded) - set(item) <= OWNED
    # legacy statuses map as documented; valid owned values already there are kept
    assert upgraded["status"] == LEGACY_STATUSES.get(item["status"], item["status"])
    for name in ("visibility", "isTemplate", "lastModified", "startedAt", "completedAt"):
        if name in item:
            assert upgraded[name] == item[name]
    assert upgraded["participantCount"] == count


@settings(max_examples=300, deadline=None)
@given(mixed_items(), counts)
def test_items_are_upgraded_validly_or_refused_for_the_damage_they_have(case, count):
    item, damage = case
    try:
        upgraded = upgrade_item(item, aggregates={"participantCount": count}, now_ms=NOW)
    except UpgradeRefused as refused:
        event(f"refused: {damage}")
        assert damage is not None, refused.reasons  # an undamaged item is never refused
        assert refused.reasons and all(isinstance(r, str) and r for r in refused.reasons)
    else:
        event("upgraded" if damage is None else f"upgraded despite: {damage}")
        assert damage is None, f"{damage} was not refused: {upgraded}"
        assert event_problems(upgraded, item) == [] and validate_item(upgraded, now_ms=NOW) == []


@settings(max_examples=200, deadline=None)
@given(upgradable_items(), counts, observed)
def test_the_plan_sets_exactly_the_difference_and_guards_what_it_read(item, count, at):
    plan = plan_upgrade(item, aggregates={"participantCount": count}, observed_at_ms=at, now_ms=NOW)
    event(f"verdict {plan.verdict.value}")
    assert plan.verdict in (Verdict.WRITE, Verdict.CURRENT)
    after = plan.after or {}
    # applying the SET to the item as read gives the planned item
    assert {**item, **plan.changes} == after
    assert set(plan.changes) <= OWNED
    if plan.verdict is Verdict.WRITE:
        # the guard holds every owned and input field exactly as read (absent ones as ABSENT)
        for name in OWNED | {"createdAt"}:
            assert plan.guard[name] is ABSENT if name not in item else plan.guard[name] == item[name]
    # planning the planned item again writes nothing
    assert plan_upgrade(after, aggregates={"participantCount": count}, observed_at_ms=at, now_ms=NOW).verdict is Verdict.CURRENT
