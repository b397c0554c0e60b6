"""The write loop around the planner: a lost race is re-planned from the item DynamoDB returns
with the failed condition (no second read), after a jittered wait."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.item_store import ItemStore
from chalicelib.planner import plan_upgrade
from chalicelib.upgrader import UpgradeResult, keep_maintained_count, upgrade_in_place
from tests.unit.writes.conftest import CREATED, legacy

COUNT = keep_maintained_count(lambda event_id: 2)


def store(stubbed):
    return ItemStore(stubbed.client, "events")


def test_a_write_that_loses_to_the_app_is_replanned_from_the_returned_item(stubbed, waits):
    # given the app moved the event to 'active' (and set a topic) after we read it as 'waiting'
    app_state = legacy(status="active", topic="Cats")
    stubbed.condition_fails(now=app_state)
    stubbed.update_succeeds()
    # when the loop upgrades what it read
    outcome = upgrade_in_place(store(stubbed), legacy(), count_source=COUNT, backoff=waits.backoff)
    # then the second write upgrades the app's state, guarded on it, and nothing was re-read
    assert outcome.result is UpgradeResult.UPGRADED and outcome.attempts == 2
    assert outcome.after["status"] == "live" and outcome.after["startedAt"] == CREATED
    assert outcome.after["topic"] == "Cats"
    first, second = stubbed.sent_of("UpdateItem")
    assert stubbed.sent_of("GetItem") == []
    assert first["ReturnValuesOnConditionCheckFailure"] == second["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    guarded = {second["ExpressionAttributeNames"][n]: v for n, v in _equalities(second).items()}
    assert guarded["status"] == {"S": "active"}
    set_values = _set_values(second)
    assert set_values["status"] == {"S": "live"} and set_values["startedAt"] == {"N": str(CREATED)}
    # and it waited once, a jittered share of the base delay
    assert waits.slept == [0.5 * waits.backoff.base_s]


def test_an_item_deleted_before_the_write_is_gone_without_a_retry(stubbed, waits):
    stubbed.condition_fails(now=None)
    outcome = upgrade_in_place(store(stubbed), legacy(), count_source=COUNT, backoff=waits.backoff)
    assert outcome.result is UpgradeResult.GONE and outcome.attempts == 1
    assert waits.slept == [] and stubbed.sent_of("GetItem") == []


def test_a_race_lost_to_another_upgrader_ends_current(stubbed, waits):
    # given another writer (the stream handler) upgraded the item first
    winner = plan_upgrade(legacy(), aggregates={"participantCount": 2}).after
    stubbed.condition_fails(now=winner)
    # when the loop goes on from the returned item
    outcome = upgrade_in_place(store(stubbed), legacy(), count_source=COUNT, backoff=waits.backoff)
    # then there is nothing left to write
    assert outcome.result is UpgradeResult.CURRENT and outcome.attempts == 2
    assert len(stubbed.sent_of("UpdateItem")) == 1


def test_an_item_that_keeps_changing_is_contended_after_the_last_attempt(stubbed, waits):
    for n in range(3):
        stubbed.condition_fails(now=legacy(name=f"renamed {n}"))
    outcome = upgrade_in_place(
        store(stubbed), legacy(), count_source=COUNT, max_attempts=3, backoff=waits.backoff
    )
    assert outcome.result is UpgradeResult.CONTENDED and outcome.attempts == 3
    # exponential caps, full jitter (0.5 here), no wait after the last attempt
    assert waits.slept == [0.5 * waits.backoff.base_s, 0.5 * 2 * waits.backoff.base_s]


def test_pace_and_announce_run_before_every_write_sent(stubbed, waits):
    calls: list[str] = []
    stubbed.condition_fails(now=legacy(status="active"))
    stubbed.update_succeeds()

    def announce(plan):
        calls.append(f"announce {plan.changes['status']} after {len(stubbed.sent_of('UpdateItem'))} sent")

    upgrade_in_place(
        store(stubbed), legacy(), count_source=COUNT, backoff=waits.backoff,
        pace=lambda: calls.append("pace"), announce=announce,
    )
    assert calls == ["pace", "announce setup after 0 sent", "pace", "announce live after 1 sent"]


def test_a_refused_item_sends_nothing(stubbed, waits):
    outcome = upgrade_in_place(store(stubbed), legacy(status="archived"), count_source=COUNT)
    assert outcome.result is UpgradeResult.REFUSED and outcome.reasons[0].startswith("status 'archived' is not one of")
    assert stubbed.sent == []


def test_the_write_sets_only_changes_and_guards_every_field_read(stubbed):
    stubbed.update_succeeds()
    upgrade_in_place(store(stubbed), legacy(extra=Decimal(7)), count_source=COUNT)
    [request] = stubbed.sent_of("UpdateItem")
    names = request["ExpressionAttributeNames"]
    condition = request["ConditionExpression"]
    # absent owned fields must still be absent; the ones read must still hold their value
    for absent in ("visibility", "isTemplate", "participantCount", "countVersion"):
        assert f"attribute_not_exists({_placeholder(names, absent)})" in condition
    assert {"status", "createdAt"} <= set(_guarded_names(request))
    assert "extra" not in names.values() and "name" not in names.values()


def _placeholder(names, attribute):
    return next(p for p, a in names.items() if a == attribute)


def _equalities(request):
    out = {}
    for clause in request["ConditionExpression"].split(" AND "):
        if " = " in clause:
            name, value = clause.split(" = ")
            out[name] = request["ExpressionAttributeValues"][value]
    return out


def _guarded_names(request):
    return [request["ExpressionAttributeNames"][n] for n in _equalities(request)]


def _set_values(request):
    body = request["UpdateExpression"].removeprefix("SET ")
    out = {}
    for assignment in body.split(", "):
        name, value = assignment.split(" = ")
        out[request["ExpressionAttributeNames"][name]] = request["ExpressionAttributeValues"][value]
    return out
