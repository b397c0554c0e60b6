"""Events stream handler: legacy writes upgraded in place, current writes cost nothing."""

from decimal import Decimal

from chalicelib.items import to_typed
from chalicelib.schema import validate_item
from chalicelib.streams import process_target_batch
from chalicelib.streams.failures import FailureStore
from chalicelib.streams.observability import (
    CURRENT,
    FAILED,
    REFUSED,
    REJECTED,
    SKIPPED,
    SUPERSEDED,
    UPGRADED,
)
from tests.unit.streams.conftest import batch, event_record, participant_record

CREATED = Decimal(1_600_000_000_000)


def legacy(event_id="e1", status="waiting", **extra):
    return {"eventId": event_id, "name": "Quiz night", "status": status, "createdAt": CREATED, **extra}


def put(dynamodb, settings, item):
    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed(item))


def test_legacy_insert_is_upgraded_with_an_exact_count(dynamodb, settings, deps):
    # given a legacy event with two participants, written by an old writer
    item = legacy(extra_field={"kept": [1, 2]})
    put(dynamodb, settings, item)
    for pid in ("p1", "p2"):
        dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": "e1", "participantId": pid}))
    # when its INSERT record is handled
    result = process_target_batch(batch(event_record("INSERT", new=item)), deps)
    # then the stored event is in the new shape, counted, and kept what it does not own
    stored = deps.store.get("e1")
    assert result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == []
    assert stored["status"] == "setup" and stored["schemaVersion"] == 2
    assert stored["participantCount"] == 2 and stored["visibility"] == "private"
    assert stored["extra_field"] == {"kept": [1, 2]} and stored["name"] == "Quiz night"


def test_own_write_coming_back_on_the_stream_writes_nothing(dynamodb, settings, deps, requests):
    # given a legacy insert that the handler upgraded
    item = legacy()
    put(dynamodb, settings, item)
    process_target_batch(batch(event_record("INSERT", new=item)), deps)
    upgraded = deps.store.get("e1")
    assert requests.calls().get("UpdateItem") == 1
    # when the handler's own MODIFY comes back (old image legacy, new image upgraded)
    result = process_target_batch(batch(event_record("MODIFY", new=upgraded, old=item)), deps)
    # then it is recognised as current: no read, no write
    assert result.stats[CURRENT] == 1
    assert requests.calls().get("UpdateItem") == 1 and requests.calls().get("GetItem", 0) == 1
    assert deps.store.get("e1") == upgraded


def test_transition_is_dated_from_the_record_time(dynamodb, settings, deps):
    # given an upgraded waiting event
    item = legacy()
    put(dynamodb, settings, item)
    process_target_batch(batch(event_record("INSERT", new=item)), deps)
    upgraded = deps.store.get("e1")
    assert "startedAt" not in upgraded
    # when an old writer flips it to "active" and the record says that happened at T
    flipped = {**upgraded, "status": "active"}
    put(dynamodb, settings, flipped)
    at_s = 1_700_000_123.456
    process_target_batch(batch(event_record("MODIFY", new=flipped, old=upgraded, at_s=at_s)), deps)
    # then it is live, started at T (ms), not at "now"
    stored = deps.store.get("e1")
    assert stored["status"] == "live" and stored["startedAt"] == 1_700_000_123_456


def test_remove_needs_no_work(deps, requests):
    result = process_target_batch(batch(event_record("REMOVE", old=legacy())), deps)
    assert result.stats[SKIPPED] == 1 and requests.calls() == {}


def test_poison_record_is_recorded_and_the_rest_of_the_batch_applied(dynamodb, settings, deps):
    # given a batch with a garbled event between two good ones
    good1, good2 = legacy("g1"), legacy("g2", status="completed")
    poison = legacy("bad", status="paused", createdAt="yesterday")
    for item in (good1, poison, good2):
        put(dynamodb, settings, item)
    records = [event_record("INSERT", new=i) for i in (good1, poison, good2)]
    # when the batch is handled
    result = process_target_batch(batch(*records), deps)
    # then nothing is reported as a batch failure, the good ones are upgraded ...
    assert result.failed_sequence_numbers == []
    assert result.stats[UPGRADED] == 2 and result.stats[REFUSED] == 1
    assert deps.store.get("g2")["status"] == "completed" and deps.store.get("bad")["status"] == "paused"
    # ... and the poison record is in the failures table with its reasons and image
    [row] = list(FailureStore(dynamodb, settings.failures_table).scan())
    assert row["itemKey"] == "events#bad" and row["recordId"] == records[1]["dynamodb"]["SequenceNumber"]
    assert any("status" in reason for reason in row["reasons"])
    assert any("createdAt" in reason for reason in row["reasons"])
    assert row["image"]["createdAt"] == {"S": "yesterday"} and row["eventName"] == "INSERT"


def test_poison_record_seen_twice_is_recorded_once(dynamodb, settings, deps):
    poison = legacy("bad", status="paused")
    put(dynamodb, settings, poison)
    same = batch(event_record("INSERT", new=poison))
    process_target_batch(same, deps)
    first = list(FailureStore(dynamodb, settings.failures_table).scan())
    process_target_batch(same, deps)
    assert list(FailureStore(dynamodb, settings.failures_table).scan()) == first


def test_transient_error_fails_only_that_record(dynamodb, settings, deps, monkeypatch):
    # given two legacy events, and a table that throttles writes to one of them
    from botocore.exceptions import ClientError

    for item in (legacy("ok"), legacy("hot")):
        put(dynamodb, settings, item)
    real_update = dynamodb.update_item

    def throttled(**kwargs):
        if kwargs["Key"]["eventId"]["S"] == "hot":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem")
        return real_update(**kwargs)

    monkeypatch.setattr(dynamodb, "update_item", throttled)
    hot = event_record("INSERT", new=legacy("hot"))
    # when the batch is handled
    result = process_target_batch(batch(event_record("INSERT", new=legacy("ok")), hot), deps)
    # then only the throttled record is a batch item failure, and the other one is applied
    assert result.failed_sequence_numbers == [hot["dynamodb"]["SequenceNumber"]]
    assert result.stats[FAILED] == 1 and deps.store.get("ok")["schemaVersion"] == 2


def test_participant_records_are_not_events(deps):
    # a mis-wired mapping must not upgrade anything: participant records are recorded, not applied
    result = process_target_batch(batch(participant_record("REMOVE", "e1", "p1")), deps)
    assert result.stats[REJECTED] == 1 and result.failed_sequence_numbers == []
    [row] = list(deps.failures.scan())
    assert "not events's key" in row["reasons"][0]


def test_recount_of_a_refused_event_is_not_reported_twice(dynamodb, settings, deps):
    # given a refused event that was reported, then recounted by the participants handler
    poison = legacy("bad", status="paused")
    put(dynamodb, settings, poison)
    process_target_batch(batch(event_record("INSERT", new=poison)), deps)
    recounted = {**poison, "participantCount": Decimal(3), "countVersion": Decimal(1)}
    put(dynamodb, settings, recounted)
    # when the recount's MODIFY comes back
    result = process_target_batch(batch(event_record("MODIFY", new=recounted, old=poison)), deps)
    # then it is not a new failure; but an application write that keeps it broken is
    assert result.stats[SKIPPED] == 1
    renamed = {**recounted, "name": "renamed"}
    put(dynamodb, settings, renamed)
    again = process_target_batch(batch(event_record("MODIFY", new=renamed, old=recounted)), deps)
    assert again.stats[REFUSED] == 1
    assert len(list(FailureStore(dynamodb, settings.failures_table).scan())) == 2


def test_poison_record_with_binary_attributes_is_recorded(dynamodb, settings, deps):
    # given a refused event carrying binary attributes (base64 in the record, as Lambda sends)
    poison = legacy("bin", status="paused", blob=b"\x00\xff", blobs={b"a", b"b"})
    put(dynamodb, settings, poison)
    record = event_record("INSERT", new=poison)
    # when it is handled, then it is recorded with the binary values in base64 (Lambda's format)
    result = process_target_batch(batch(record), deps)
    assert result.stats[REFUSED] == 1 and result.failed_sequence_numbers == []
    [row] = list(FailureStore(dynamodb, settings.failures_table).scan())
    assert row["image"]["blob"] == {"B": "AP8="}


def test_several_writes_to_one_event_in_a_batch_cost_one_upgrade(dynamodb, settings, deps, requests):
    # given an old writer that wrote one event three times before the batch was delivered
    first, second, last = legacy(), legacy(status="active"), legacy(status="completed", name="Final")
    put(dynamodb, settings, last)
    records = [
        event_record("INSERT", new=first, at_s=1_700_000_001),
        event_record("MODIFY", new=second, old=first, at_s=1_700_000_002),
        event_record("MODIFY", new=last, old=second, at_s=1_700_000_003),
    ]
    # when the batch is handled
    result = process_target_batch(batch(*records), deps)
    # then only the last record is applied: one count query, one write, the freshest state
    stored = deps.store.get("e1")
    assert result.stats[SUPERSEDED] == 2 and result.stats[UPGRADED] == 1
    assert requests.calls().get("UpdateItem") == 1 and requests.calls().get("Query") == 1
    assert stored["status"] == "completed" and stored["name"] == "Final"
    assert stored["completedAt"] == 1_700_000_003_000 and validate_item(stored) == []
