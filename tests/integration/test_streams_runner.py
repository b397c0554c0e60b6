"""Live path end to end over HTTP: boto3 writes -> real stream records -> runner -> handlers."""

from decimal import Decimal

from backfill.live.stream_runner import PositionStore, StreamRunner
from backfill.table.request_counter import RequestCounter
from backfill.table.target import Target
from chalicelib.counts import AggregateCounter
from chalicelib.item_store import ItemStore
from chalicelib.items import to_typed
from chalicelib.schema import needs_upgrade
from chalicelib.streams.failures import FailureStore

STATUSES = ("waiting", "active", "completed")


def make_target(live_settings):
    return Target(settings=live_settings)


def write_legacy_events(dynamodb, settings, count):
    for i in range(count):
        item = {"eventId": f"e{i}", "name": f"Event {i}", "status": STATUSES[i % 3], "createdAt": Decimal(1_600_000_000_000 + i), "legacyNote": f"n{i}"}
        dynamodb.put_item(TableName=settings.table("events"), Item=to_typed(item))


def join(dynamodb, settings, event_id, participant_id):
    dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": event_id, "participantId": participant_id}))


def leave(dynamodb, settings, event_id, participant_id):
    dynamodb.delete_item(TableName=settings.table("participants"), Key=to_typed({"eventId": event_id, "participantId": participant_id}))


def assert_everything_current(dynamodb, settings, event_ids):
    store = ItemStore(dynamodb, settings.table("events"))
    counter = AggregateCounter(dynamodb, settings.table("participants"))
    for event_id in event_ids:
        item = store.get(event_id)
        assert not needs_upgrade(item), event_id
        assert item["participantCount"] == counter.count(event_id), event_id
        assert item["legacyNote"] == f"n{event_id[1:]}"


def test_runner_upgrades_every_event_and_keeps_counts_exact(dynamodb, live_settings):
    # given legacy events written by an old writer, then people joining and leaving
    write_legacy_events(dynamodb, live_settings, 12)
    for i in range(12):
        for p in range(i % 4):
            join(dynamodb, live_settings, f"e{i}", f"p{p}")
    leave(dynamodb, live_settings, "e3", "p0")
    leave(dynamodb, live_settings, "e7", "p2")
    # when the runner drains the streams
    runner = StreamRunner(make_target(live_settings), batch_size=7)
    stats = runner.drain()
    # then every event is upgraded and every count equals a fresh count
    assert_everything_current(dynamodb, live_settings, [f"e{i}" for i in range(12)])
    assert stats.outcomes[live_settings.table("events")]["upgraded"] == 12
    assert stats.given_up == []
    # and a second drain of the same streams writes nothing
    with RequestCounter().attach(runner.dynamodb) as requests:
        again = runner.drain()
    assert again.total_records() == 0 and "UpdateItem" not in requests.calls()


def test_handler_writes_come_back_current_and_cause_no_more_writes(dynamodb, live_settings):
    # given a legacy event fed once
    write_legacy_events(dynamodb, live_settings, 1)
    runner = StreamRunner(make_target(live_settings))
    with RequestCounter().attach(runner.dynamodb) as requests:
        stats = runner.drain()
    # then the handler wrote exactly once, and its own MODIFY came back and was seen as current
    events = stats.outcomes[live_settings.table("events")]
    assert requests.calls()["UpdateItem"] == 1
    assert events["upgraded"] == 1 and events["current"] == 1 and stats.records[live_settings.table("events")] == 2


def test_later_changes_are_picked_up_from_the_saved_position(dynamodb, live_settings, tmp_path):
    # given a drained table and a runner that saved its positions to a file
    write_legacy_events(dynamodb, live_settings, 3)
    positions_file = tmp_path / "positions.json"
    endpoint = live_settings.endpoint_url
    StreamRunner(make_target(live_settings), positions=PositionStore(positions_file, endpoint=endpoint)).drain()
    # when an old writer flips a status and someone joins, and a new runner starts from the file
    store = ItemStore(dynamodb, live_settings.table("events"))
    dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": "e0"}}, UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "active"}})
    join(dynamodb, live_settings, "e0", "late")
    stats = StreamRunner(make_target(live_settings), positions=PositionStore(positions_file, endpoint=endpoint)).drain()
    # then only the new records are read, the transition is dated and the count is exact
    # (events stream: the flip, the recount's write, the upgrade's write; not the 3 old inserts)
    assert stats.records[live_settings.table("events")] == 3
    assert stats.outcomes[live_settings.table("events")]["upgraded"] == 1
    assert stats.records[live_settings.table("participants")] == 1
    stored = store.get("e0")
    assert stored["status"] == "live" and stored["startedAt"] >= stored["createdAt"]
    assert stored["participantCount"] == 1


def test_poison_event_is_listed_and_does_not_block_the_stream(dynamodb, live_settings):
    write_legacy_events(dynamodb, live_settings, 2)
    dynamodb.put_item(TableName=live_settings.table("events"), Item=to_typed({"eventId": "bad", "status": "paused", "createdAt": "soon"}))
    write_legacy_events(dynamodb, live_settings, 4)
    stats = StreamRunner(make_target(live_settings)).drain()
    assert stats.outcomes[live_settings.table("events")]["refused"] == 1
    assert [row["itemKey"] for row in FailureStore(dynamodb, live_settings.failures_table).scan()] == ["events#bad"]
    assert_everything_current(dynamodb, live_settings, [f"e{i}" for i in range(4)])
