"""The orders migration (``examples/orders/schema.py``) end to end, with nothing but its
declaration: the backfill, the live path, verify and restore on a table with a composite key, a
count over another table, its own workflow and legacy aliases.

Every input is written out here by hand (typed DynamoDB JSON, and Lambda events in AWS's
documented format in ``events/``); every check reads the table with a raw boto3 scan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backfill.migrate import MigrationOptions, run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import newest_backup
from backfill.table.target import Target
from backfill.verify import FindingKind, VerifyOptions, run_verify
from chalicelib.items import to_python
from chalicelib.schema import validate_item
from chalicelib.streams import process_batch
from chalicelib.streams.dependencies import Dependencies

HERE = Path(__file__).parent
PLACED = "1767225000000"

# Orders as the old shop left them: no modelVersion, no currency, the old state names.
LEGACY_ORDERS: list[dict[str, Any]] = [
    {"customerId": {"S": "c-1"}, "orderId": {"S": "o-1"}, "state": {"S": "paid"}, "placedAt": {"N": PLACED}},
    {"customerId": {"S": "c-1"}, "orderId": {"S": "o-2"}, "state": {"S": "sent"}, "placedAt": {"N": PLACED},
     "giftNote": {"S": "for Ann"}},
    # another customer's order with the same orderId: its items are not c-1's
    {"customerId": {"S": "c-2"}, "orderId": {"S": "o-1"}, "state": {"S": "new"}, "placedAt": {"N": PLACED}},
]
ITEMS = [("o-1", "l-1", "c-1"), ("o-1", "l-9", "c-1"), ("o-2", "l-1", "c-1")]


def name(customer: str, order: str) -> str:
    return json.dumps([customer, order])


def rows(dynamodb: Any, table: str = "orders") -> dict[str, dict[str, Any]]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {name(i["customerId"]["S"], i["orderId"]["S"]): to_python(i) for i in items}


@pytest.fixture
def target(live_settings, dynamodb) -> Target:
    for order in LEGACY_ORDERS:
        dynamodb.put_item(TableName="orders", Item=order)
    for order_id, line_id, customer_id in ITEMS:
        dynamodb.put_item(TableName="order_items", Item={
            "orderId": {"S": order_id}, "lineId": {"S": line_id}, "customerId": {"S": customer_id}})
    return Target(settings=live_settings)


def test_the_backfill_takes_legacy_orders_to_the_declared_shape(target, dynamodb, tmp_path):
    # given also an order in a state the workflow does not know
    dynamodb.put_item(TableName="orders", Item={"customerId": {"S": "c-3"}, "orderId": {"S": "o-7"},
                                                "state": {"S": "lost"}, "placedAt": {"N": PLACED}})
    # when the backfill runs
    report = run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    # then the three known orders are upgraded and the fourth is refused, naming its state
    assert report.tally.count("upgraded") == 3 and report.tally.count("refused") == 1
    [refused] = report.tally.refused
    assert "state 'lost' is not one of cart, placed, shipped, delivered" in "; ".join(refused["reasons"])
    orders = rows(dynamodb)
    for key in (name("c-1", "o-1"), name("c-1", "o-2"), name("c-2", "o-1")):
        assert validate_item(orders[key]) == [], key
        assert orders[key]["modelVersion"] == 2 and orders[key]["currency"] == "EUR"
    # and legacy states are mapped, the shipped order dated, the counts exact per (customer, order)
    paid, sent, new = orders[name("c-1", "o-1")], orders[name("c-1", "o-2")], orders[name("c-2", "o-1")]
    assert (paid["state"], sent["state"], new["state"]) == ("placed", "shipped", "cart")
    assert sent["shippedAt"] == int(PLACED) and "shippedAt" not in paid
    assert (paid["itemCount"], sent["itemCount"], new["itemCount"]) == (2, 1, 0)
    assert paid["itemsVersion"] == 1 and sent["giftNote"] == "for Ann"
    assert orders[name("c-3", "o-7")]["state"] == "lost"  # refused: untouched


def test_the_live_path_repairs_a_legacy_whole_item_put(target, dynamodb, live_settings, tmp_path):
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    dynamodb.update_item(TableName="orders", Key={"customerId": {"S": "c-1"}, "orderId": {"S": "o-2"}},
                         UpdateExpression="SET currency = :c, #s = :p REMOVE shippedAt",
                         ExpressionAttributeNames={"#s": "state"},
                         ExpressionAttributeValues={":c": {"S": "USD"}, ":p": {"S": "placed"}})
    # given the old shop saved the whole order again, shipping it and dropping currency
    event = json.loads((HERE / "events" / "legacy_put_ships_order.json").read_text(encoding="utf-8"))
    dynamodb.put_item(TableName="orders", Item=event["Records"][0]["dynamodb"]["NewImage"])
    # when the orders stream's handler gets the record
    result = process_batch("orders", event, Dependencies(live_settings, dynamodb))
    # then the order is current again: state mapped, shipped when the record says, currency carried
    assert result.stats["upgraded"] == 1 and result.failed_sequence_numbers == []
    order = rows(dynamodb)[name("c-1", "o-2")]
    assert validate_item(order) == []
    assert order["state"] == "shipped" and order["shippedAt"] == 1767229200000
    assert order["currency"] == "USD" and order["giftNote"] == "saved by the old shop"
    assert order["itemCount"] == 1  # the count is not the order's writer's to change


def test_the_item_stream_keeps_item_count_exact(target, dynamodb, live_settings, tmp_path):
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    # given a line added to c-1/o-2 and one removed from c-1/o-1 (the table changes the records report)
    event = json.loads((HERE / "events" / "item_added_and_removed.json").read_text(encoding="utf-8"))
    dynamodb.put_item(TableName="order_items", Item=event["Records"][0]["dynamodb"]["NewImage"])
    dynamodb.delete_item(TableName="order_items", Key=event["Records"][1]["dynamodb"]["Keys"])
    # when the order_items stream's handler gets the records
    result = process_batch("order_items", event, Dependencies(live_settings, dynamodb))
    # then each touched order is recounted once, its version bumped; the other customer's o-1 untouched
    assert result.failed_sequence_numbers == [] and result.stats["counted"] == 2
    orders = rows(dynamodb)
    assert orders[name("c-1", "o-2")]["itemCount"] == 2 and orders[name("c-1", "o-2")]["itemsVersion"] == 2
    assert orders[name("c-1", "o-1")]["itemCount"] == 1
    assert orders[name("c-2", "o-1")]["itemCount"] == 0 and orders[name("c-2", "o-1")]["itemsVersion"] == 1


def test_verify_passes_after_the_backfill_and_names_a_wrong_count(target, dynamodb, tmp_path):
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    assert run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2)).ok
    # when another customer's order with the same orderId claims c-1's items
    dynamodb.update_item(TableName="orders", Key={"customerId": {"S": "c-2"}, "orderId": {"S": "o-1"}},
                         UpdateExpression="SET itemCount = :n", ExpressionAttributeValues={":n": {"N": "2"}})
    # then verify fails on exactly that order
    result = run_verify(target, VerifyOptions(backup_dir=tmp_path, total_segments=2))
    assert not result.ok and result.failing_names() == {name("c-2", "o-1")} == result.ids_of(FindingKind.COUNT_MISMATCH)


def test_restore_returns_the_orders_to_their_backup(target, dynamodb, live_settings, tmp_path):
    before = rows(dynamodb)
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2))
    assert rows(dynamodb) != before
    # when restored from the run's backup
    backup = newest_backup(tmp_path, "orders")
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path))
    # then every order is exactly as the old shop left it
    assert result.ok and result.ids("restored") == set(before)
    assert rows(dynamodb) == before


def test_an_item_that_leaves_or_joins_its_order_by_a_group_attribute_is_counted(target, dynamodb, live_settings,
                                                                                 tmp_path):
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    # given line l-9 of c-1/o-1 loses its customerId, and a line of o-2 without one (counted for no
    # order) gains c-1's: the group attribute outside the key changes, the key does not
    event = json.loads((HERE / "events" / "item_leaves_and_joins_a_group.json").read_text(encoding="utf-8"))
    dynamodb.put_item(TableName="order_items", Item=event["Records"][0]["dynamodb"]["NewImage"])
    dynamodb.put_item(TableName="order_items", Item=event["Records"][1]["dynamodb"]["NewImage"])
    # when the order_items stream's handler gets the records
    result = process_batch("order_items", event, Dependencies(live_settings, dynamodb))
    # then both orders are recounted: o-1 lost a line, o-2 gained one
    assert result.failed_sequence_numbers == [] and result.stats["counted"] == 2
    orders = rows(dynamodb)
    assert orders[name("c-1", "o-1")]["itemCount"] == 1 and orders[name("c-1", "o-2")]["itemCount"] == 2


def test_an_item_that_belongs_to_no_order_is_recorded_not_skipped(target, dynamodb, live_settings, tmp_path):
    run_migration(target, MigrationOptions(backup_dir=tmp_path, segments=1))
    before = rows(dynamodb)
    # given a line written with buyerId where the declaration's group_by says customerId
    event = json.loads((HERE / "events" / "item_of_no_order.json").read_text(encoding="utf-8"))
    dynamodb.put_item(TableName="order_items", Item=event["Records"][0]["dynamodb"]["NewImage"])
    # when the order_items stream's handler gets the record
    deps = Dependencies(live_settings, dynamodb)
    result = process_batch("order_items", event, deps)
    # then it is recorded in the failures table, naming the attribute; no order changed
    assert result.failed_sequence_numbers == [] and result.stats["reported"] == 1
    [row] = list(deps.failures.scan())
    assert row["itemKey"] == "order_items#o-2/l-7"
    assert row["reasons"] == ["order_items row belongs to no orders item: it carries no customerId (group_by of "
                              "itemCount), so it counts for none"]
    assert rows(dynamodb) == before
