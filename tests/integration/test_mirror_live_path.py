"""The participants stream with participantCount kept by a membership mirror
(``chalicelib.schema.mirrored:EVENTS``), on each engine: Lambda-format batches go through the
real handler, and every check reads the tables raw (boto3), against hand-written expectations."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.config import Config

from backfill.table.request_counter import RequestCounter
from chalicelib.items import to_typed
from chalicelib.streams import process_batch, process_source_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.failures import FailureStore
from chalicelib.streams.observability import REPORTED
from tests.integration.faults.injection import throttling_response
from tests.unit.streams.conftest import batch, event_record, load_event, participant_record, plain

pytestmark = pytest.mark.usefixtures("mirrored")

MIRROR = "participant_members"


def seed_writers(endpoint_name: str) -> int:
    """Transactions the seed keeps in flight on this engine: one on moto, whose transactions are
    not isolated (a cancelled one puts back copies of the tables it touched, undoing what other
    threads committed meanwhile); several elsewhere, as on DynamoDB."""
    return 1 if endpoint_name == "moto" else 4


def given_event(dynamodb: Any, event_id: str = "e1", *, count: int = 0, marked: bool = True) -> None:
    item = {"eventId": {"S": event_id}, "name": {"S": "Quiz"}, "status": {"S": "setup"},
            "createdAt": {"N": "1700000000000"}, "lastModified": {"N": "1700000000000"},
            "visibility": {"S": "private"}, "isTemplate": {"BOOL": False}, "schemaVersion": {"N": "2"},
            "participantCount": {"N": str(count)}, "countVersion": {"N": "1"}}
    if marked:
        item["participantCountMirrored"] = {"BOOL": True}
    dynamodb.put_item(TableName="events", Item=item)


def seq(n: int) -> str:
    return str(300_000_000_000_000_000_000 + n)


def join(event_id: str, participant_id: str, n: int) -> dict[str, Any]:
    return participant_record("INSERT", event_id, participant_id, sequence_number=seq(n))


def leave(event_id: str, participant_id: str, n: int) -> dict[str, Any]:
    return participant_record("REMOVE", event_id, participant_id, sequence_number=seq(n))


def count_of(dynamodb: Any, event_id: str = "e1") -> int:
    return int(dynamodb.get_item(TableName="events", Key={"eventId": {"S": event_id}}, ConsistentRead=True)
               ["Item"]["participantCount"]["N"])


def rows(dynamodb: Any, event_id: str = "e1") -> dict[str, bool]:
    """participantId -> present, as the mirror holds them (a consistent Query, read raw)."""
    found = dynamodb.query(TableName=MIRROR, KeyConditionExpression="eventId = :e", ConsistentRead=True,
                           ExpressionAttributeValues={":e": {"S": event_id}})["Items"]
    return {row["participantId"]["S"]: row["present"]["BOOL"] for row in found}


def test_each_record_is_one_transaction_and_no_group_is_read(dynamodb, deps):
    # given a marked event with no participant yet
    given_event(dynamodb)
    # when three joins and a leave arrive in one batch
    records = [join("e1", "a", 1), join("e1", "b", 2), join("e1", "c", 3), leave("e1", "b", 4)]
    with RequestCounter().attach(dynamodb) as requests:
        result = process_source_batch(batch(*records), deps)
    # then the count and the rows are exact, each record was one transaction, and nothing was queried
    assert result.failed_sequence_numbers == []
    assert count_of(dynamodb) == 2 and rows(dynamodb) == {"a": True, "b": False, "c": True}
    assert requests.calls() == {"TransactWriteItems": 4}


def test_a_hand_written_lambda_event_is_applied(dynamodb, deps):
    # given the event the hand-written participants batch names, p3 already a member
    given_event(dynamodb, "e-p")
    earlier = participant_record("INSERT", "e-p", "p3", sequence_number="100000000000000000001")
    process_source_batch(batch(earlier), deps)
    # when the batch (two joins, a MODIFY in place, p3 leaving) is handled
    result = process_source_batch(load_event("participants_changes"), deps)
    # then p1 and p2 are members, p3 left, and the MODIFY moved nothing
    assert result.failed_sequence_numbers == []
    assert rows(dynamodb, "e-p") == {"p1": True, "p2": True, "p3": False} and count_of(dynamodb, "e-p") == 2


def test_redelivered_and_stale_duplicate_batches_change_nothing(dynamodb, deps):
    given_event(dynamodb)
    first = batch(join("e1", "a", 1), join("e1", "b", 2))
    second = batch(leave("e1", "a", 3), join("e1", "c", 4))
    process_source_batch(first, deps)
    process_source_batch(second, deps)
    # when both batches come again, the older one last (a duplicate delivered late)
    process_source_batch(second, deps)
    process_source_batch(first, deps)
    # then a's join (older than its leave) did not bring it back: the count is b and c
    assert rows(dynamodb) == {"a": False, "b": True, "c": True} and count_of(dynamodb) == 2


def test_join_and_leave_of_one_member_in_one_batch(dynamodb, deps):
    given_event(dynamodb)
    process_source_batch(batch(join("e1", "a", 1), leave("e1", "a", 2), leave("e1", "b", 3), join("e1", "b", 4)), deps)
    assert rows(dynamodb) == {"a": False, "b": True} and count_of(dynamodb) == 1
    # and the whole batch again leaves it so
    process_source_batch(batch(join("e1", "a", 1), leave("e1", "a", 2), leave("e1", "b", 3), join("e1", "b", 4)), deps)
    assert rows(dynamodb) == {"a": False, "b": True} and count_of(dynamodb) == 1


@pytest.fixture
def flaky_deps(live_settings: Any, dynamodb: Any) -> Iterator[tuple[Dependencies, list[str]]]:
    """Dependencies whose client sends once (no botocore retry) and throttles the transactions that
    name a participant listed in the returned list."""
    client = boto3.client("dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    throttled: list[str] = []

    def on_send(request: Any, event_name: str = "", **_: Any) -> Any:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if event_name.endswith("TransactWriteItems") and any(f'"{p}"' in body for p in throttled):
            return throttling_response(request.url, "ProvisionedThroughputExceededException")
        return None

    client.meta.events.register("before-send", on_send)
    yield Dependencies(live_settings, client), throttled


def test_out_of_order_retry_after_a_partial_batch_failure(dynamodb, flaky_deps):
    deps, throttled = flaky_deps
    given_event(dynamodb)
    records = [join("e1", "a", 1), leave("e1", "a", 2), join("e1", "b", 3), join("e1", "a", 4), leave("e1", "b", 5)]
    process_source_batch(batch(join("e1", "b", 0)), deps)
    # when the records of b are throttled in the first delivery (a's are applied, b's fail)
    throttled.append("b")
    first = process_source_batch(batch(*records), deps)
    assert first.failed_sequence_numbers == [seq(3), seq(5)]
    assert rows(dynamodb) == {"a": True, "b": True} and count_of(dynamodb) == 2
    # and Lambda delivers again from the first failed record (a's later records come back too)
    throttled.clear()
    again = process_source_batch(batch(*records[2:]), deps)
    # then every member is in its newest record's state, and the count matches
    assert again.failed_sequence_numbers == []
    assert rows(dynamodb) == {"a": True, "b": False} and count_of(dynamodb) == 1


def test_a_join_to_a_missing_event_is_reported_and_writes_nothing(dynamodb, deps):
    given_event(dynamodb)
    result = process_source_batch(batch(join("ghost", "p9", 1), join("e1", "a", 2), leave("gone", "p", 3)), deps)
    # then no event "ghost" appears, no row was written for it, and only the join is reported
    assert "Item" not in dynamodb.get_item(TableName="events", Key={"eventId": {"S": "ghost"}})
    assert rows(dynamodb, "ghost") == {} and count_of(dynamodb) == 1
    assert result.stats[REPORTED] == 1 and result.failed_sequence_numbers == []
    [row] = list(FailureStore(dynamodb, "migration-failures").scan())
    assert row["itemKey"] == "participants#ghost/p9"


def test_an_unmarked_event_is_recounted_and_its_rows_kept(dynamodb, deps):
    # given an event whose count the mirror does not keep yet (being seeded), with two participants
    given_event(dynamodb, count=7, marked=False)
    for p in ("a", "b"):
        dynamodb.put_item(TableName="participants", Item={"eventId": {"S": "e1"}, "participantId": {"S": p}})
    # when their joins arrive
    process_source_batch(batch(join("e1", "a", 1), join("e1", "b", 2)), deps)
    # then the rows are kept, and the count was recounted from the participants table
    assert rows(dynamodb) == {"a": True, "b": True} and count_of(dynamodb) == 2
    item = dynamodb.get_item(TableName="events", Key={"eventId": {"S": "e1"}}, ConsistentRead=True)["Item"]
    assert "participantCountMirrored" not in item and int(item["countVersion"]["N"]) >= 3


def test_a_recount_that_lost_a_race_to_the_mark_leaves_the_marked_count_alone(dynamodb, deps):
    # given an unmarked event with one participant, and the mark landing right after the
    # recount read the event (the seeding's mark: count = the mirror's present rows, here 0)
    given_event(dynamodb, count=0, marked=False)
    dynamodb.put_item(TableName="participants", Item={"eventId": {"S": "e1"}, "participantId": {"S": "a"}})
    counter = deps.counters["participantCount"]
    real_count = counter.count

    def count_then_mark(event_id: str) -> int:
        n = real_count(event_id)
        dynamodb.update_item(TableName="events", Key={"eventId": {"S": "e1"}},
                             UpdateExpression="SET participantCount = :z, participantCountMirrored = :t ADD countVersion :one",
                             ExpressionAttributeValues={":z": {"N": "0"}, ":t": {"BOOL": True}, ":one": {"N": "1"}})
        counter.count = real_count  # type: ignore[method-assign]
        return n

    counter.count = count_then_mark  # type: ignore[method-assign]
    # when the live path recounts the event it found unmarked
    process_source_batch(batch(join("e1", "a", 1)), deps)
    # then the marked count is the mirror's from then on: the recount did not overwrite it
    assert rows(dynamodb) == {"a": True}
    assert count_of(dynamodb) == 0


def new_event_record(event_id: str) -> dict[str, Any]:
    image = {"eventId": event_id, "name": "Webinar", "status": "setup", "createdAt": Decimal(1_700_000_000_000),
             "lastModified": Decimal(1_700_000_000_000), "visibility": "public", "isTemplate": False,
             "participantCount": Decimal(0), "schemaVersion": Decimal(2)}
    return event_record("INSERT", new=image)


def test_an_event_created_after_the_switch_is_kept_by_the_mirror_from_its_insert(dynamodb, deps):
    # given an event the application creates (current shape, no marker), with no participant yet,
    # and another created after a participant joined it (an orphan row, reported when it came)
    dynamodb.put_item(TableName="events", Item=to_typed(plain(new_event_record("e-new")["dynamodb"]["NewImage"])))
    dynamodb.put_item(TableName="participants", Item={"eventId": {"S": "e-late"}, "participantId": {"S": "x"}})
    dynamodb.put_item(TableName="events", Item=to_typed(plain(new_event_record("e-late")["dynamodb"]["NewImage"])))
    # when the events stream brings their INSERTs
    result = process_batch("events", batch(new_event_record("e-new"), new_event_record("e-late")), deps)
    assert result.failed_sequence_numbers == []
    # then the empty one is marked (its count is the mirror's), the other stays recounted
    item = dynamodb.get_item(TableName="events", Key={"eventId": {"S": "e-new"}}, ConsistentRead=True)["Item"]
    assert item["participantCountMirrored"] == {"BOOL": True} and item["participantCount"] == {"N": "0"}
    late = dynamodb.get_item(TableName="events", Key={"eventId": {"S": "e-late"}}, ConsistentRead=True)["Item"]
    assert "participantCountMirrored" not in late
    # and joins then move the new one's count by one each, with no query
    with RequestCounter().attach(dynamodb) as requests:
        process_source_batch(batch(join("e-new", "a", 1), join("e-new", "b", 2)), deps)
    assert count_of(dynamodb, "e-new") == 2 and requests.calls() == {"TransactWriteItems": 2}


def test_an_unmarked_event_costs_one_failed_transaction_per_batch_not_per_record(dynamodb, deps):
    given_event(dynamodb, marked=False)
    for p in ("a", "b", "c"):
        dynamodb.put_item(TableName="participants", Item={"eventId": {"S": "e1"}, "participantId": {"S": p}})
    with RequestCounter().attach(dynamodb) as requests:
        process_source_batch(batch(join("e1", "a", 1), join("e1", "b", 2), join("e1", "c", 3)), deps)
    # the first record learns the event is unmarked; the others go straight to the unmarked form
    assert requests.calls()["TransactWriteItems"] == 4 and count_of(dynamodb) == 3


def test_the_engines_own_stream_records_through_the_local_runner(dynamodb, live_settings, deps, streams):
    from backfill.live.stream_runner import StreamRunner
    from backfill.table.target import Target

    # given a marked event, and the application joining and leaving: the engine's own stream
    # records (its sequence numbers, its REMOVE images), read by `backfill streams`' runner
    given_event(dynamodb)
    for p in ("a", "b", "c"):
        dynamodb.put_item(TableName="participants", Item={"eventId": {"S": "e1"}, "participantId": {"S": p}})
    dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": "b"}})
    dynamodb.put_item(TableName="participants", Item={"eventId": {"S": "e1"}, "participantId": {"S": "b"}})
    dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": "a"}})
    # when the runner drains the streams into the handlers
    stats = StreamRunner(Target(settings=live_settings), batch_size=2, dependencies=deps).drain()
    # then the rows and the count follow the table
    assert stats.given_up == []
    assert rows(dynamodb) == {"a": False, "b": True, "c": True} and count_of(dynamodb) == 2
