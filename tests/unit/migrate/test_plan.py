"""The plan: the same upgrade as a real run, simulated without any write."""

from decimal import Decimal

from backfill.migrate.plan import ABSENT_MARK, build_plan, plan_item
from chalicelib.schema import CURRENT
from chalicelib.schema.current import COUNT_VERSION
from chalicelib.upgrader import UpgradeResult, keep_maintained_count

ARCHIVED = "status 'archived' is not one of draft, setup, live, completed (or legacy waiting, active)"
COUNTS = keep_maintained_count(lambda event_id: {"e1": 3}.get(event_id, 0))


def legacy(event_id="e1", status="waiting", **extra):
    return {"eventId": event_id, "name": "Quiz", "status": status, "createdAt": Decimal(1_700_000_000_000), **extra}


def test_legacy_item_would_be_upgraded_with_owned_changes_only():
    # given a legacy event with an attribute the migration does not own
    item = legacy(tags={"x"})
    # when it is planned
    plan = plan_item(item, COUNTS)
    # then it would be upgraded, setting only owned fields, with the scanned count and a count version
    assert plan.result is UpgradeResult.UPGRADED
    assert set(plan.changes) <= CURRENT.owned
    assert plan.changes["status"] == "setup" and plan.changes["participantCount"] == 3
    assert plan.changes[COUNT_VERSION] == 1
    assert plan.after["tags"] == {"x"}


def test_current_item_is_skipped_and_keeps_its_maintained_count():
    # given an already upgraded event whose count the live path maintains
    upgraded = plan_item(legacy(), COUNTS).after
    upgraded = {**upgraded, "participantCount": Decimal(9), COUNT_VERSION: Decimal(4)}
    # when it is planned with a different scanned count
    plan = plan_item(upgraded, COUNTS)
    # then nothing would be written
    assert plan.result is UpgradeResult.CURRENT and plan.changes == {}


def test_current_item_with_a_count_nobody_maintains_gets_the_counted_one():
    # given an event already in the current shape, written before the live path existed: its
    # participantCount is wrong and it has no countVersion
    current = plan_item(legacy(), COUNTS).after
    stale = {k: v for k, v in current.items() if k != COUNT_VERSION} | {"participantCount": Decimal(7)}
    # when it is planned with the counted 3
    plan = plan_item(stale, COUNTS)
    # then the count is corrected (and from now on maintained), nothing else is written
    assert plan.result is UpgradeResult.UPGRADED
    assert plan.changes == {"participantCount": 3, COUNT_VERSION: 1}


def test_current_item_with_the_right_unmaintained_count_is_left_alone():
    current = plan_item(legacy(), COUNTS).after
    exact = {k: v for k, v in current.items() if k != COUNT_VERSION} | {"participantCount": Decimal(3)}
    assert plan_item(exact, COUNTS).result is UpgradeResult.CURRENT


def test_malformed_item_is_refused_with_reasons():
    plan = plan_item(legacy(status="archived"), COUNTS)
    assert plan.result is UpgradeResult.REFUSED
    assert plan.reasons == [ARCHIVED]


def test_build_plan_counts_transitions_samples_and_problems():
    # given legacy items in several statuses, a current one, a malformed one
    items = [legacy("e1"), legacy("e2", "active"), legacy("e3", "active"), legacy("bad", "archived")]
    items.append(plan_item(legacy("e4", "completed"), COUNTS).after)
    # when they are planned with at most two samples
    plan = build_plan(items, COUNTS, samples=2)
    summary = plan.to_dict()
    # then the summary counts each kind and transition
    assert (plan.total, plan.would_upgrade, plan.current, plan.refused) == (5, 3, 1, 1)
    assert summary["transitions"] == {"waiting->setup": 1, "active->live": 2}
    assert summary["statuses_after"] == {"setup": 1, "live": 2, "completed": 1}
    assert summary["refused_items"] == [{"eventId": "bad", "reasons": [ARCHIVED]}]
    # and the samples show only changed owned fields, absent ones marked
    assert len(summary["sample_diffs"]) == 2
    first = summary["sample_diffs"][0]
    assert first["eventId"] == "e1"
    assert first["changes"]["status"] == {"before": "waiting", "after": "setup"}
    assert first["changes"]["visibility"] == {"before": ABSENT_MARK, "after": "private"}
    assert "name" not in first["changes"]
    # and the participant stats cover the valid events: e1 has 3, the others 0
    assert summary["aggregate"] == {"name": "participantCount", "items": 4, "items_not_zero": 1, "total": 3, "average": 0.75, "max": 3}


def test_an_item_the_rule_crashes_on_is_a_named_failure():
    # given a count source that blows up for one item
    def source(item):
        if item["eventId"] == "boom":
            raise RuntimeError("kaput")
        return {"participantCount": 0}

    # when planned
    plan = build_plan([legacy("ok"), legacy("boom")], source)
    # then the plan goes on and names the item
    assert plan.would_upgrade == 1
    assert plan.tally.failed == [{"eventId": "boom", "reasons": ["RuntimeError: kaput"]}]
