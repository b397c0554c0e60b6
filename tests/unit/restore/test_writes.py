"""Restore's conditional writes (in-process moto): they land only on the item as it was read."""

from decimal import Decimal

from backfill.restore.writes import delete_as_read, get_typed, put_over, revert_fields
from chalicelib.items import to_python, to_typed

KEY = {"eventId": {"S": "e1"}}
MIGRATED = {"eventId": "e1", "name": "a", "status": "setup", "schemaVersion": Decimal(2), "m": {"l": [Decimal(1)]},
            "ss": {"x", "y"}}


def put(dynamodb, settings, item):
    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed(item))


def read(dynamodb, settings):
    return get_typed(dynamodb, settings.table("events"), KEY)


def test_revert_sets_and_removes_only_owned_fields_and_keeps_other_changes(dynamodb, settings):
    put(dynamodb, settings, MIGRATED)
    as_read = read(dynamodb, settings)
    # the app changes an unowned attribute after the read
    put(dynamodb, settings, {**MIGRATED, "name": "app"})
    assert revert_fields(dynamodb, settings.table("events"), as_read, {"status": {"S": "waiting"}},
                         ["schemaVersion"], guarded={"status", "schemaVersion", "visibility"})
    expected = {k: v for k, v in MIGRATED.items() if k != "schemaVersion"} | {"name": "app", "status": "waiting"}
    assert to_python(read(dynamodb, settings)) == expected


def test_revert_refuses_when_a_guarded_field_moved(dynamodb, settings):
    put(dynamodb, settings, MIGRATED)
    as_read = read(dynamodb, settings)
    put(dynamodb, settings, {**MIGRATED, "status": "live"})
    assert not revert_fields(dynamodb, settings.table("events"), as_read, {"status": {"S": "waiting"}}, [],
                             guarded={"status"})
    assert to_python(read(dynamodb, settings))["status"] == "live"


def test_put_and_delete_need_the_whole_item_as_read(dynamodb, settings):
    put(dynamodb, settings, MIGRATED)
    as_read = read(dynamodb, settings)
    backup = to_typed({"eventId": "e1", "name": "old"})
    put(dynamodb, settings, {**MIGRATED, "m": {"l": [Decimal(2)]}})  # a nested change
    assert not put_over(dynamodb, settings.table("events"), backup, as_read)
    assert not delete_as_read(dynamodb, settings.table("events"), as_read)
    fresh = read(dynamodb, settings)
    assert put_over(dynamodb, settings.table("events"), backup, fresh)
    assert to_python(read(dynamodb, settings)) == {"eventId": "e1", "name": "old"}
    assert delete_as_read(dynamodb, settings.table("events"), read(dynamodb, settings))
    assert read(dynamodb, settings) is None


def test_recreate_only_when_still_absent(dynamodb, settings):
    backup = to_typed({"eventId": "e1", "name": "old"})
    assert put_over(dynamodb, settings.table("events"), backup, None)
    assert not put_over(dynamodb, settings.table("events"), to_typed({"eventId": "e1", "name": "other"}), None)
    assert to_python(read(dynamodb, settings))["name"] == "old"
