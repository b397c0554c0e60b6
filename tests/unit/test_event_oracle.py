"""The tests' hand-written judge of a v2 event (tests/support/event_oracle.py), on rows written
out by hand: it accepts a v2 row and names each way a row falls short."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.schema import upgrade_item, use_schema, validate_item
from tests.support.event_oracle import event_problems
from tests.support.mutations import waiting_read_as_live

CREATED = Decimal(1_700_000_000_000)
LIVE_ROW = {
    "eventId": "e1", "name": "Town hall", "createdAt": CREATED, "status": "live", "visibility": "private",
    "isTemplate": False, "lastModified": CREATED, "startedAt": CREATED + 5, "participantCount": Decimal(3),
    "countVersion": Decimal(1), "schemaVersion": Decimal(2),
}
OLD_ROW = {"eventId": "e1", "name": "Town hall", "createdAt": CREATED, "status": "active"}


def test_a_v2_row_from_its_old_row_has_no_problem():
    assert event_problems(LIVE_ROW, OLD_ROW) == []


def test_each_shortfall_is_named():
    row = {**LIVE_ROW, "visibility": "secret", "isTemplate": "no", "participantCount": Decimal(-1),
           "schemaVersion": Decimal(1)}
    del row["startedAt"]
    assert event_problems(row) == [
        "schemaVersion Decimal('1'), not 2", "visibility 'secret'", "isTemplate 'no' is not a boolean",
        "participantCount Decimal('-1') is not a count", "startedAt missing for status live",
    ]


def test_dates_out_of_order_or_implausible_are_named():
    assert event_problems({**LIVE_ROW, "startedAt": CREATED - 1}) == ["startedAt before createdAt"]
    assert event_problems({**LIVE_ROW, "lastModified": Decimal(1_700_000_000)}) == [
        "lastModified Decimal('1700000000') is not a plausible timestamp"]


def test_the_status_must_be_the_old_status_s_v2_name_unless_the_app_changed_it():
    waiting = {**OLD_ROW, "status": "waiting"}
    assert event_problems(LIVE_ROW, waiting) == ["status 'live': the old row's 'waiting' is 'setup'"]
    assert event_problems(LIVE_ROW, waiting, app_changed={"status"}) == []


def test_a_rule_broken_in_one_place_passes_its_own_validation_but_not_the_judge():
    # given a waiting event, upgraded by the rule with one alias broken (waiting -> live)
    old = {**OLD_ROW, "status": "waiting"}
    with use_schema(waiting_read_as_live()):
        upgraded = upgrade_item(old, aggregates={"participantCount": Decimal(0)})
        # then the broken rule's own validation is satisfied
        assert validate_item(upgraded) == []
    # but the hand-written judge names the wrong status
    assert event_problems(upgraded, old) == ["status 'live': the old row's 'waiting' is 'setup'"]
