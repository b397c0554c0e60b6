"""The moto server fixture is a real endpoint: store, upgrade-in-place and backup work over HTTP."""

from decimal import Decimal

from backfill.run.backup import iter_backup_items, load_backup, verify_backup
from backfill.table.backup import create_backup
from chalicelib.item_store import ItemStore
from chalicelib.items import to_python, to_typed
from chalicelib.upgrader import UpgradeResult, keep_maintained_count, upgrade_in_place


def test_legacy_event_is_upgraded_over_http(dynamodb, live_settings):
    # given a legacy event on the endpoint
    legacy = {"eventId": "e1", "name": "Quiz", "status": "waiting", "createdAt": Decimal(1_700_000_000_000), "x": {"a": [1]}}
    dynamodb.put_item(TableName=live_settings.table("events"), Item=to_typed(legacy))
    store = ItemStore(dynamodb, live_settings.table("events"))
    # when it is upgraded in place
    outcome = upgrade_in_place(store, legacy, count_source=keep_maintained_count(lambda _: 4))
    # then the stored row has the new fields and kept the rest
    stored = store.get("e1")
    assert outcome.result is UpgradeResult.UPGRADED
    assert stored["status"] == "setup" and stored["participantCount"] == 4 and stored["x"] == {"a": [1]}
    # and a second upgrade writes nothing
    again = upgrade_in_place(store, stored, count_source=keep_maintained_count(lambda _: 99))
    assert again.result is UpgradeResult.CURRENT and store.get("e1")["participantCount"] == 4


def test_backup_round_trips_typed_items(dynamodb, live_settings, tmp_path):
    item = {"eventId": "b1", "bin": b"\x00\xff", "ns": {Decimal("1.5"), Decimal(2)}, "m": {"l": [None, True]}}
    dynamodb.put_item(TableName=live_settings.table("events"), Item=to_typed(item))
    backup = create_backup(dynamodb, live_settings.table("events"), tmp_path, region="us-east-1",
                           endpoint=live_settings.endpoint_url, total_segments=2)
    verify_backup(load_backup(backup.data_path))
    [(segment, typed)] = list(iter_backup_items(backup))
    assert to_python(typed)["bin"] == item["bin"] and to_python(typed)["ns"] == item["ns"]
