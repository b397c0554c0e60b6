"""Participants stream handler: one recount per touched event per batch, exact and idempotent."""

from decimal import Decimal

from backfill.table.request_counter import RequestCounter
from chalicelib.items import to_typed
from chalicelib.streams import process_source_batch
from chalicelib.streams.failures import FailureStore
from chalicelib.streams.observability import COUNTED, FAILED, REPORTED
from tests.unit.streams.conftest import batch, participant_record

UPGRADED_EVENT = {
    "eventId": "e1", "name": "Quiz", "status": "setup", "createdAt": Decimal(1_700_000_000_000), "lastModified": Decimal(1_700_000_000_000),
    "visibility": "private", "isTemplate": False, "participantCount": Decimal(0), "schemaVersion": Decimal(2),
}


def given_event(dynamodb, settings, event_id="e1"):
    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed({**UPGRADED_EVENT, "eventId": event_id}))


def join(dynamodb, settings, event_id, participant_id):
    dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": event_id, "participantId": participant_id}))
    return participant_record("INSERT", event_id, participant_id)


def leave(dynamodb, settings, event_id, participant_id):
    dynamodb.delete_item(TableName=settings.table("participants"), Key=to_typed({"eventId": event_id, "participantId": participant_id}))
    return participant_record("REMOVE", event_id, participant_id)


def test_joins_and_leaves_are_counted_once_per_event(dynamodb, settings, deps):
    # given two events, three joins and one leave across them
    given_event(dynamodb, settings, "e1")
    given_event(dynamodb, settings, "e2")
    records = [join(dynamodb, settings, "e1", p) for p in ("a", "b", "c")]
    records.append(join(dynamodb, settings, "e2", "x"))
    records.append(leave(dynamodb, settings, "e1", "b"))
    # when the batch is handled
    with RequestCounter().attach(dynamodb) as requests:
        result = process_source_batch(batch(*records), deps)
    # then each event was recounted once and the counts are exact
    assert result.stats[COUNTED] == 2 and requests.calls()["Query"] == 2
    assert requests.calls()["UpdateItem"] == 2
    assert deps.store.get("e1")["participantCount"] == 2
    assert deps.store.get("e2")["participantCount"] == 1


def test_same_batch_twice_gives_the_same_counts(dynamodb, settings, deps):
    given_event(dynamodb, settings)
    records = [join(dynamodb, settings, "e1", p) for p in ("a", "b", "c")] + [leave(dynamodb, settings, "e1", "a")]
    process_source_batch(batch(*records), deps)
    first = deps.store.get("e1")
    # when the same batch is delivered again (a retry)
    again = process_source_batch(batch(*records), deps)
    # then the count is the same and nothing was rewritten
    assert deps.store.get("e1") == first and first["participantCount"] == 2
    assert again.failed_sequence_numbers == []


def test_participant_of_a_missing_event_is_reported_not_invented(dynamodb, settings, deps):
    # given a participant whose event does not exist, in a batch with a normal join
    given_event(dynamodb, settings, "e1")
    orphan = join(dynamodb, settings, "ghost", "p9")
    result = process_source_batch(batch(orphan, join(dynamodb, settings, "e1", "a")), deps)
    # then no event "ghost" appears, the other join is counted, and the orphan is reported
    assert deps.store.get("ghost") is None
    assert deps.store.get("e1")["participantCount"] == 1
    assert result.stats[REPORTED] == 1 and result.failed_sequence_numbers == []
    [row] = list(FailureStore(dynamodb, settings.failures_table).scan())
    assert row["itemKey"] == "participants#ghost/p9" and "ghost" in row["reasons"][0]
    # and reporting the same record again adds nothing
    process_source_batch(batch(orphan), deps)
    assert len(list(FailureStore(dynamodb, settings.failures_table).scan())) == 1


def test_leave_after_the_event_was_deleted_is_quiet_cleanup(dynamodb, settings, deps):
    dynamodb.put_item(TableName=settings.table("participants"), Item=to_typed({"eventId": "gone", "participantId": "p"}))
    result = process_source_batch(batch(leave(dynamodb, settings, "gone", "p")), deps)
    assert result.stats[REPORTED] == 0 and list(FailureStore(dynamodb, settings.failures_table).scan()) == []


def test_modify_that_keeps_the_participant_in_place_costs_nothing(deps, requests):
    record = participant_record("MODIFY", "e1", "a")
    result = process_source_batch(batch(record), deps)
    assert result.stats[COUNTED] == 0 and requests.calls() == {}


def test_failed_recount_fails_all_records_of_that_event_only(dynamodb, settings, deps, monkeypatch):
    # given joins on two events, and a participants query that fails for one of them
    from botocore.exceptions import ClientError

    given_event(dynamodb, settings, "e1")
    given_event(dynamodb, settings, "e2")
    e1 = [join(dynamodb, settings, "e1", p) for p in ("a", "b")]
    e2 = [join(dynamodb, settings, "e2", "x")]
    real_query = dynamodb.query

    def flaky(**kwargs):
        if kwargs["ExpressionAttributeValues"][":g0"]["S"] == "e1":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Query")
        return real_query(**kwargs)

    monkeypatch.setattr(dynamodb, "query", flaky)
    result = process_source_batch(batch(e1[0], e2[0], e1[1]), deps)
    # then both e1 records are batch item failures and e2 is counted
    assert result.failed_sequence_numbers == [r["dynamodb"]["SequenceNumber"] for r in e1]
    assert result.stats[FAILED] == 2 and deps.store.get("e2")["participantCount"] == 1
