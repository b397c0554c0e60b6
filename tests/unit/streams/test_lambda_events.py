"""Both handlers against hand-written events in Lambda's documented format (tests/events/)."""

from boto3.dynamodb.types import Binary

from chalicelib.schema import validate_item
from chalicelib.streams import process_source_batch, process_target_batch
from chalicelib.streams.observability import COUNTED, CURRENT, REJECTED, SKIPPED, UPGRADED
from tests.unit.streams.conftest import plain, stored_item


def seed(dynamodb, table, event, *indexes):
    for i in indexes:
        dynamodb.put_item(TableName=table, Item=stored_item(event["Records"][i]["dynamodb"]["NewImage"]))


def test_every_attribute_type_including_base64_binary_is_upgraded_losslessly(stream_event, dynamodb, settings, deps):
    # given a legacy insert holding every DynamoDB type, binary values as base64 text
    event = stream_event("events_every_type")
    seed(dynamodb, settings.table("events"), event, 0)
    # when it is handled
    result = process_target_batch(event, deps)
    # then the event is upgraded and every attribute it does not own is exactly as written
    assert result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == []
    stored = deps.store.get("e-types")
    assert validate_item(stored) == [] and stored["status"] == "setup"
    written = plain(event["Records"][0]["dynamodb"]["NewImage"])
    for name in ("price", "tags", "scores", "logo", "thumbs", "venue", "history", "archived", "featured", "name"):
        assert stored[name] == written[name], name
    assert stored["logo"] == Binary(b"\x89PNG\r\n\x1a\n") and stored["venue"]["photo"] == Binary(b"\xde\xad\xbe\xef")
    assert stored["thumbs"] == {Binary(b"\x00\x01\x02"), Binary(b"\xff\x00\xff")}


def test_legacy_insert_modify_remove(stream_event, dynamodb, settings, deps):
    # given an old writer's insert, status change and delete of three events
    event = stream_event("events_legacy_changes")
    seed(dynamodb, settings.table("events"), event, 0, 1)
    # when the batch is handled
    result = process_target_batch(event, deps)
    # then the two live events are upgraded, the change dated by its record, the delete ignored
    assert result.stats[UPGRADED] == 2 and result.stats[SKIPPED] == 1 and result.failed_sequence_numbers == []
    assert deps.store.get("e-new")["status"] == "setup"
    modified = deps.store.get("e-mod")
    assert modified["status"] == "live" and modified["startedAt"] == 1_767_225_602_000
    assert deps.store.get("e-gone") is None


def test_the_aws_sample_event_is_recorded_as_foreign_and_never_retried(stream_event, deps):
    # given AWS's own sample event: a table keyed by a number "Id", not by eventId
    event = stream_event("aws_sample")
    # when it reaches either handler
    for process in (process_target_batch, process_source_batch):
        result = process(event, deps)
        # then every record is rejected, none is a batch item failure
        assert result.stats[REJECTED] == 3 and result.failed_sequence_numbers == []
    # and the failures table names each record by its foreign key and sequence number
    rows = list(deps.failures.scan())
    assert sorted({row["itemKey"] for row in rows}) == ['events#{"Id": {"N": "101"}}', 'participants#{"Id": {"N": "101"}}']
    assert len(rows) == 6 and all("not" in row["reasons"][0] and "key" in row["reasons"][0] for row in rows)


def test_an_undecodable_image_is_recorded_and_the_rest_applied(stream_event, dynamodb, settings, deps):
    # given a record whose binary value is not base64, next to a fine one
    event = stream_event("events_undecodable")
    seed(dynamodb, settings.table("events"), event, 1)
    # when the batch is handled
    result = process_target_batch(event, deps)
    # then the garbled one is recorded with the attribute named, the other upgraded, nothing retried
    assert result.stats[REJECTED] == 1 and result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == []
    [row] = list(deps.failures.scan())
    assert row["itemKey"] == "events#e-garbled" and "NewImage.logo" in row["reasons"][0]
    assert row["image"]["logo"] == {"B": "%%% not base64 %%%"}


def test_participant_changes_with_binary_attributes_are_counted(stream_event, dynamodb, settings, deps):
    # given an event and its participants' inserts (one with a base64 avatar), an edit and a leave
    event = stream_event("participants_changes")
    legacy = stream_event("events_legacy_changes")["Records"][0]["dynamodb"]["NewImage"]
    dynamodb.put_item(TableName=settings.table("events"), Item=stored_item({**legacy, "eventId": {"S": "e-p"}}))
    seed(dynamodb, settings.table("participants"), event, 0, 1)
    # when the batch is handled
    result = process_source_batch(event, deps)
    # then the event is counted once, exactly, and nothing failed
    assert result.failed_sequence_numbers == [] and result.stats[COUNTED] == 1
    assert deps.store.get("e-p")["participantCount"] == 2


def test_one_undecodable_participant_record_does_not_stop_the_others_being_counted(stream_event, dynamodb, settings, deps):
    # given a batch whose first join has an avatar that is not base64
    event = stream_event("participants_changes")
    event["Records"][0]["dynamodb"]["NewImage"]["avatar"] = {"B": "***"}
    legacy = stream_event("events_legacy_changes")["Records"][0]["dynamodb"]["NewImage"]
    dynamodb.put_item(TableName=settings.table("events"), Item=stored_item({**legacy, "eventId": {"S": "e-p"}}))
    seed(dynamodb, settings.table("participants"), event, 1)
    # when the batch is handled
    result = process_source_batch(event, deps)
    # then that record is recorded, and the event is still counted from the others
    assert result.stats[REJECTED] == 1 and result.failed_sequence_numbers == []
    assert deps.store.get("e-p")["participantCount"] == 1


def test_our_own_write_coming_back_is_current(stream_event, dynamodb, settings, deps):
    # given the handler upgraded a legacy insert
    event = stream_event("events_legacy_changes")
    seed(dynamodb, settings.table("events"), event, 0)
    process_target_batch({"Records": event["Records"][:1]}, deps)
    # when a record carrying the stored (current) image arrives, then nothing is written
    current = dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": {"S": "e-new"}})["Item"]
    echo = {"Records": [dict(event["Records"][0], eventName="MODIFY")]}
    # (GetItem's typed JSON is Lambda's, binary aside, and this event has none)
    echo["Records"][0]["dynamodb"] = dict(echo["Records"][0]["dynamodb"], NewImage=current, SequenceNumber="100000000000000000099")
    assert process_target_batch(echo, deps).stats[CURRENT] == 1


def given_participants(dynamodb, settings, event_id, count):
    for index in range(count):
        dynamodb.put_item(TableName=settings.table("participants"), Item={"eventId": {"S": event_id}, "participantId": {"S": f"p{index}"}})


def test_a_legacy_whole_item_put_over_a_current_event_loses_nothing(stream_event, dynamodb, settings, deps):
    # given a current public template event, live since T0, that an old writer saved whole
    # in its legacy shape (status "active", a note of its own, no new-schema fields)
    event = stream_event("events_legacy_put_over_current")
    seed(dynamodb, settings.table("events"), event, 0)
    given_participants(dynamodb, settings, "e-cur", 2)
    # when its record is handled
    result = process_target_batch(event, deps)
    # then what the legacy shape cannot express is back, the start keeps its date, the put's own
    # attributes stay, and the event is valid
    assert result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == []
    stored = deps.store.get("e-cur")
    assert validate_item(stored) == []
    assert stored["status"] == "live" and stored["visibility"] == "public" and stored["isTemplate"] is True
    assert stored["topic"] == "Rust" and stored["description"] == "Monthly meetup"
    assert stored["startedAt"] == 1_767_225_300_000 and "completedAt" not in stored
    assert stored["name"] == "Launch party" and stored["legacyNote"] == "saved by the v1 app"
    assert stored["participantCount"] == 2


def test_a_legacy_put_completing_a_current_event_dates_only_the_completion(stream_event, dynamodb, settings, deps):
    # given a live event that an old writer saves whole with status "completed" at T
    event = stream_event("events_legacy_put_completes_current")
    seed(dynamodb, settings.table("events"), event, 0)
    # when its record is handled, then the start keeps its date and only the completion is T
    process_target_batch(event, deps)
    stored = deps.store.get("e-cur")
    assert stored["status"] == "completed" and stored["startedAt"] == 1_767_225_300_000
    assert stored["completedAt"] == 1_767_232_800_000 and stored["topic"] == "Rust"


def test_a_carried_attribute_is_not_written_over_a_newer_value(stream_event, dynamodb, settings, deps):
    # given the legacy put, and the new application setting a topic before the handler runs
    event = stream_event("events_legacy_put_over_current")
    image = stored_item(event["Records"][0]["dynamodb"]["NewImage"])
    dynamodb.put_item(TableName=settings.table("events"), Item={**image, "topic": {"S": "Go"}})
    # when the record is handled, then the newer topic stays
    process_target_batch(event, deps)
    stored = deps.store.get("e-cur")
    assert stored["topic"] == "Go" and stored["visibility"] == "public" and validate_item(stored) == []


def test_transitions_in_one_batch_are_dated_by_the_records_that_made_them(stream_event, dynamodb, settings, deps):
    # given an event that went live at T1 and completed at T2, both records in one batch
    event = stream_event("events_live_then_completed")
    seed(dynamodb, settings.table("events"), event, 1)
    # when the batch is handled
    result = process_target_batch(event, deps)
    # then the start is dated T1 and the completion T2 (not both T2)
    assert result.stats[UPGRADED] == 1 and result.stats["superseded"] == 1
    stored = deps.store.get("e-batch")
    assert stored["status"] == "completed"
    assert stored["startedAt"] == 1_767_229_200_000 and stored["completedAt"] == 1_767_236_400_000


def test_an_undecodable_last_record_does_not_hide_the_earlier_ones(stream_event, dynamodb, settings, deps):
    # given an event that went live then completed, whose last record arrives garbled
    event = stream_event("events_live_then_completed")
    event["Records"][1]["dynamodb"]["NewImage"]["poster"] = {"B": "!!"}
    seed(dynamodb, settings.table("events"), event, 0)
    # when the batch is handled
    result = process_target_batch(event, deps)
    # then the garbled one is recorded and the one before it applied (not superseded by it)
    assert result.stats[REJECTED] == 1 and result.stats[UPGRADED] == 1
    stored = deps.store.get("e-batch")
    assert stored["status"] == "live" and stored["startedAt"] == 1_767_229_200_000


def test_a_value_without_a_type_is_undecodable_in_awss_format(stream_event, dynamodb, settings, deps):
    # given a record in AWS's format holding {} where AWS always names a type (an empty map is
    # {"M": {}}; only DynamoDB Local spells it {}, and the local stream runner rewrites that)
    event = stream_event("events_value_without_type")
    seed(dynamodb, settings.table("events"), event, 1)
    # when the batch is handled
    result = process_target_batch(event, deps)
    # then that record is recorded with the attribute named, the other upgraded, nothing retried
    assert result.stats[REJECTED] == 1 and result.stats[UPGRADED] == 1 and result.failed_sequence_numbers == []
    [row] = list(deps.failures.scan())
    assert row["itemKey"] == "events#e-typeless" and "NewImage.settings" in row["reasons"][0]
