"""The recount: a write that loses to another recount starts over from the returned item."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.counts import AggregateCounter, CountResult, refresh_aggregate
from chalicelib.item_store import ItemStore
from tests.unit.writes.conftest import legacy


def recount(stubbed, waits, **kw):
    return refresh_aggregate(
        ItemStore(stubbed.client, "events"), AggregateCounter(stubbed.client, "participants"), "e1",
        backoff=waits.backoff, **kw,
    )


def test_a_recount_that_loses_a_race_recounts_and_writes_over_the_winner(stubbed, waits):
    # given an event at countVersion 1, and another recount that writes version 2 first
    stubbed.get_returns(legacy(participantCount=Decimal(1), countVersion=Decimal(1)))
    stubbed.count_returns(3)
    stubbed.condition_fails(now=legacy(participantCount=Decimal(2), countVersion=Decimal(2)))
    stubbed.count_returns(4)
    stubbed.update_succeeds()
    # when the count is refreshed
    outcome = recount(stubbed, waits)
    # then the second write carries a fresh count, guarded on the winner's version, after one wait
    assert (outcome.result, outcome.count, outcome.attempts) == (CountResult.UPDATED, 4, 2)
    first, second = stubbed.sent_of("UpdateItem")
    assert list(second["ExpressionAttributeValues"].values())[0] == {"N": "2"}  # guard first
    assert {"N": "4"} in second["ExpressionAttributeValues"].values()
    assert {"N": "3"} in second["ExpressionAttributeValues"].values()  # countVersion 2 + 1
    assert len(stubbed.sent_of("GetItem")) == 1 and len(waits.slept) == 1


def test_a_recount_whose_event_was_deleted_meanwhile_reports_it_missing(stubbed, waits):
    stubbed.get_returns(legacy(participantCount=Decimal(1)))
    stubbed.count_returns(0)
    stubbed.condition_fails(now=None)
    outcome = recount(stubbed, waits)
    assert outcome.result is CountResult.ITEM_MISSING and outcome.attempts == 2


def test_a_recount_that_keeps_losing_is_contended(stubbed, waits):
    stubbed.get_returns(legacy(participantCount=Decimal(1), countVersion=Decimal(1)))
    for version in (2, 3):
        stubbed.count_returns(5)
        stubbed.condition_fails(now=legacy(participantCount=Decimal(version), countVersion=Decimal(version)))
    outcome = recount(stubbed, waits, max_attempts=2)
    assert outcome.result is CountResult.CONTENDED and outcome.attempts == 2
    assert len(waits.slept) == 1
