"""A write whose outcome was unclear after botocore's retries (a 5xx answer) is settled by
reading the item back: applied, not applied (sent again), or changed by someone else."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chalicelib.item_store import ItemStore
from chalicelib.settle import Settled
from tests.unit.writes.conftest import legacy

CHANGES = {"status": "live", "schemaVersion": 2}
GUARD = {"status": "waiting"}


def a_500(stubbed) -> None:
    stubbed.stubber.add_client_error("update_item", "InternalServerError", "<html>500</html>", 500)


def test_a_500_after_the_write_landed_is_settled_as_applied(stubbed):
    # given a write answered 500, and the item read back holds exactly what it sets
    a_500(stubbed)
    stubbed.get_returns(legacy(status="live", schemaVersion=2))
    # when it is sent
    result = ItemStore(stubbed.client, "events").conditional_set("e1", CHANGES, GUARD)
    # then it counts as written, settled as applied, after one consistent read and no resend
    assert result.written and result.settled is Settled.APPLIED
    assert len(stubbed.sent_of("UpdateItem")) == 1
    assert stubbed.sent_of("GetItem")[0]["ConsistentRead"] is True


def test_a_500_before_the_write_landed_sends_it_again(stubbed):
    # given a write answered 500, and the item read back is still as read
    a_500(stubbed)
    stubbed.get_returns(legacy())
    stubbed.update_succeeds()
    # when it is sent; then the same conditional write is sent again and lands
    result = ItemStore(stubbed.client, "events").conditional_set("e1", CHANGES, GUARD)
    assert result.written and result.settled is Settled.RESENT
    first, second = stubbed.sent_of("UpdateItem")
    assert first == second


def test_a_500_while_the_app_changed_the_item_is_a_conflict_with_the_item_now(stubbed):
    # given a write answered 500, and the application changed the item meanwhile
    a_500(stubbed)
    app_state = legacy(status="active", topic="Cats")
    stubbed.get_returns(app_state)
    stubbed.condition_fails(now=app_state)
    # when it is sent; then it is not written, and the caller gets the item to re-plan from
    result = ItemStore(stubbed.client, "events").conditional_set("e1", CHANGES, GUARD)
    assert not result.written and result.settled is Settled.CONFLICT
    assert result.current is not None and result.current["topic"] == "Cats"


def test_a_plain_failed_condition_costs_no_read(stubbed):
    # given a first try that fails its condition (no earlier attempt of it was answered 5xx)
    stubbed.condition_fails(now=legacy(status="active"))
    # when it is sent; then it is an ordinary conflict: nothing read back, nothing settled
    result = ItemStore(stubbed.client, "events").conditional_set("e1", CHANGES, GUARD)
    assert not result.written and result.settled is None
    assert stubbed.sent_of("GetItem") == []


def test_a_write_that_keeps_getting_500s_raises_after_three_settlements(stubbed):
    # given every try answered 500 and never applied
    for _ in range(3):
        a_500(stubbed)
        stubbed.get_returns(legacy())
    a_500(stubbed)
    # when it is sent; then it gives up with the service's error after three read-backs
    with pytest.raises(ClientError, match="InternalServerError"):
        ItemStore(stubbed.client, "events").conditional_set("e1", CHANGES, GUARD)
    assert len(stubbed.sent_of("UpdateItem")) == 4 and len(stubbed.sent_of("GetItem")) == 3
