"""The orders count kept by a membership mirror: a composite key (customerId, orderId), a group
attribute outside the source key (customerId on order_items, keyed orderId + lineId), and a line
moved to another customer's order by a MODIFY. Lambda-format records through the real handler;
every check reads the tables raw."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.schema import Key, Schema, use_schema
from chalicelib.schema.aggregate import Mirror
from chalicelib.streams import process_batch
from chalicelib.streams.dependencies import Dependencies
from examples.orders.schema import ORDERS
from tests.unit.streams.conftest import batch, record

ORDER_LINES = Mirror("order_lines", Key("order", "line"), marker="itemCountMirrored")
MIRRORED = replace(ORDERS, aggregates=(replace(ORDERS.aggregates[0], strategy=ORDER_LINES),))
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/order_items/stream/2026-01-01T00:00:00.000"


@pytest.fixture
def orders() -> Iterator[Schema]:
    """The orders declaration with itemCount kept by the mirror (the tables are made from it)."""
    with use_schema(MIRRORED):
        yield MIRRORED


def given_order(dynamodb: Any, customer: str, order: str) -> None:
    dynamodb.put_item(TableName="orders", Item={
        "customerId": {"S": customer}, "orderId": {"S": order}, "state": {"S": "placed"},
        "placedAt": {"N": "1767225000000"}, "currency": {"S": "EUR"}, "modelVersion": {"N": "2"},
        "itemCount": {"N": "0"}, "itemsVersion": {"N": "1"}, "itemCountMirrored": {"BOOL": True}})


def line(event_name: str, line_id: str, n: int, *, customer: str, before: str | None = None) -> dict[str, Any]:
    keys = {"orderId": "o-1", "lineId": line_id}
    new = {**keys, "customerId": customer} if event_name != "REMOVE" else None
    old = {**keys, "customerId": before or customer} if event_name != "INSERT" else None
    return record(event_name, keys, new=new, old=old, arn=ARN, sequence_number=str(400_000_000_000_000_000_000 + n))


def item_count(dynamodb: Any, customer: str) -> int:
    item = dynamodb.get_item(TableName="orders", Key={"customerId": {"S": customer}, "orderId": {"S": "o-1"}},
                             ConsistentRead=True)["Item"]
    return int(item["itemCount"]["N"])


def test_a_line_moved_to_another_customers_order_leaves_one_group_and_joins_the_other(dynamodb, live_settings):
    # given two marked orders o-1, of customers c-1 and c-2
    given_order(dynamodb, "c-1", "o-1")
    given_order(dynamodb, "c-2", "o-1")
    deps = Dependencies(live_settings, dynamodb)
    # when two lines are added to c-1's order, then one is moved to c-2's (a MODIFY of customerId)
    records = [line("INSERT", "l-1", 1, customer="c-1"), line("INSERT", "l-2", 2, customer="c-1"),
               line("MODIFY", "l-2", 3, customer="c-2", before="c-1")]
    result = process_batch("order_items", batch(*records), deps)
    # then each order counts its own lines, and the mirror names each order by its key's JSON list
    assert result.failed_sequence_numbers == []
    assert (item_count(dynamodb, "c-1"), item_count(dynamodb, "c-2")) == (1, 1)
    rows = {(r["order"]["S"], r["line"]["S"]): r["present"]["BOOL"]
            for r in dynamodb.scan(TableName="order_lines", ConsistentRead=True)["Items"]}
    assert rows == {('["c-1", "o-1"]', "l-1"): True, ('["c-1", "o-1"]', "l-2"): False, ('["c-2", "o-1"]', "l-2"): True}
    # and the batch again changes nothing
    process_batch("order_items", batch(*records), deps)
    assert (item_count(dynamodb, "c-1"), item_count(dynamodb, "c-2")) == (1, 1)


def test_a_line_of_no_order_is_recorded_not_skipped(dynamodb, live_settings):
    # given a marked order, and a line written with buyerId where group_by says customerId
    given_order(dynamodb, "c-1", "o-1")
    deps = Dependencies(live_settings, dynamodb)
    keys = {"orderId": "o-1", "lineId": "l-5"}
    stray = record("INSERT", keys, new={**keys, "buyerId": "c-1"}, arn=ARN, sequence_number="400000000000000000099")
    # when the mirror's handler gets it
    result = process_batch("order_items", batch(stray), deps)
    # then it is recorded, naming the attribute, and no count moved
    assert result.failed_sequence_numbers == [] and result.stats["reported"] == 1
    [row] = list(deps.failures.scan())
    assert "carries no customerId" in row["reasons"][0] and item_count(dynamodb, "c-1") == 0
