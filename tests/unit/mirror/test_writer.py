"""The mirror writer's reading of a cancelled transaction, for reasons no local engine produces
on demand (botocore's Stubber answers as DynamoDB documents it)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.backoff import Backoff
from chalicelib.mirror import Membership, MirrorRefused, MirrorWriter
from chalicelib.schema import Key
from chalicelib.schema.mirrored import EVENTS


def cancelled(*codes: str) -> dict:
    return {"service_error_code": "TransactionCanceledException", "service_message": "Transaction cancelled",
            "response_meta": {}, "modeled_fields": {"CancellationReasons": [{"Code": c} for c in codes]}}


@pytest.fixture
def stubbed():
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    writer = MirrorWriter(client, EVENTS.aggregates[0], mirror_table="participant_members", target_table="events",
                          target_key=Key("eventId"), backoff=Backoff(sleep=lambda _s: None))
    with Stubber(client) as stubber:
        yield writer, stubber


def test_an_invalid_transaction_is_refused_not_retried(stubbed):
    writer, stubber = stubbed
    stubber.add_client_error("transact_write_items", **cancelled("None", "ValidationError"),
                             expected_params={"TransactItems": ANY})
    with pytest.raises(MirrorRefused):
        writer.apply(Membership("e1", "p1", present=True, at="1".zfill(40)))
    stubber.assert_no_pending_responses()


def test_a_conflicting_transaction_is_tried_again(stubbed):
    writer, stubber = stubbed
    stubber.add_client_error("transact_write_items", **cancelled("TransactionConflict", "None"),
                             expected_params={"TransactItems": ANY})
    stubber.add_response("transact_write_items", {}, expected_params={"TransactItems": ANY})
    assert writer.apply(Membership("e1", "p1", present=True, at="1".zfill(40))).value == "counted"
    stubber.assert_no_pending_responses()
