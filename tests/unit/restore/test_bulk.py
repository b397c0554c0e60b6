"""BatchWriteItem's unprocessed items, with botocore's Stubber: resent exactly, never dropped."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from backfill.restore import bulk
from backfill.restore.bulk import write_batch


def put(key: str) -> dict:
    return {"PutRequest": {"Item": {"eventId": {"S": key}, "n": {"N": "1.50"}}}}


def stubbed():
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client, Stubber(client)


def test_unprocessed_items_are_resent_alone_until_none_is_left():
    # given a table that leaves two items, then one, unprocessed
    client, stub = stubbed()
    first = [put(k) for k in "abcd"]
    stub.add_response("batch_write_item", {"UnprocessedItems": {"t": [first[1], first[3]]}},
                      {"RequestItems": {"t": first}})
    stub.add_response("batch_write_item", {"UnprocessedItems": {"t": [first[3]]}},
                      {"RequestItems": {"t": [first[1], first[3]]}})
    stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"t": [first[3]]}})
    delays: list[float] = []
    # when the batch is written
    with stub:
        requests, resent, unwritten = write_batch(
            client, "t", [r["PutRequest"]["Item"] for r in first], ["eventId"], sleep=delays.append)
        stub.assert_no_pending_responses()
    # then exactly the unprocessed items were sent again, after a backoff each time
    assert (requests, resent, unwritten) == (3, 3, [])
    assert len(delays) == 2 and all(d >= 0 for d in delays)


def test_a_table_that_never_accepts_reports_the_keys_instead_of_dropping_them(monkeypatch):
    # given a table that keeps every item unprocessed
    monkeypatch.setattr(bulk, "STALL_LIMIT", 3)
    client, stub = stubbed()
    items = [put("a"), put("b")]
    for _ in range(3):
        stub.add_response("batch_write_item", {"UnprocessedItems": {"t": items}}, {"RequestItems": {"t": items}})
    # when the batch is written
    with stub:
        requests, _resent, unwritten = write_batch(
            client, "t", [r["PutRequest"]["Item"] for r in items], ["eventId"], sleep=lambda _s: None)
    # then it gives up after the stall limit and names every item not written
    assert requests == 3
    assert unwritten == [{"eventId": {"S": "a"}}, {"eventId": {"S": "b"}}]
