"""How the runner reads shards, with DynamoDB Streams' answers scripted (botocore's Stubber) in the
shapes the API reference documents for DescribeStream, GetShardIterator and GetRecords."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from backfill.errors import BadInput, ExitCode, explain
from backfill.live.stream_runner import (
    EMPTY_PAGES_TO_LEAVE_AN_OPEN_SHARD,
    PositionStore,
    RunStats,
    StreamRunner,
)
from chalicelib.streams.batch import BatchResult

SHARD = "shardId-00000001541626099285-f35f62ef"


class FakeTarget:
    def __init__(self, settings: Any, dynamodb: Any, streams: Any) -> None:
        self.settings, self.dynamodb, self.streams = settings, dynamodb, streams


def stream_record(sequence: str, key: str) -> dict[str, Any]:
    """One GetRecords record as the DynamoDB Streams API reference shows it."""
    return {
        "eventID": f"id-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=timezone.utc),
            "Keys": {"eventId": {"S": key}},
            "NewImage": {"eventId": {"S": key}},
            "SequenceNumber": sequence,
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def shard(start: str, end: str | None = None, shard_id: str = SHARD) -> dict[str, Any]:
    numbers = {"StartingSequenceNumber": start} | ({"EndingSequenceNumber": end} if end else {})
    return {"ShardId": shard_id, "SequenceNumberRange": numbers}


class Script:
    """The runner on the unit tests' tables, its stream answers scripted, its handlers recording."""

    def __init__(self, settings: Any, dynamodb: Any, streams: Any, **runner_options: Any) -> None:
        self.runner = StreamRunner(FakeTarget(settings, dynamodb, streams), **runner_options)
        self.stub = Stubber(streams)
        self.seen: dict[str, list[str]] = {s.table: [] for s in self.runner.streams}
        self.failing: set[str] = set()  # keys the handlers fail on
        for s in self.runner.streams:
            s.handle = self._handler(s.table)
        self.arn = {s.table: s.arn for s in self.runner.streams}

    def _handler(self, table: str) -> Any:
        def handle(event: dict[str, Any], deps: Any) -> BatchResult:
            failed = []
            for record in event["Records"]:
                key = record["dynamodb"]["Keys"]["eventId"]["S"]
                self.seen[table].append(key)
                if key in self.failing:
                    failed.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
            return BatchResult({"batchItemFailures": failed})
        return handle

    def describe(self, table: str, *shards: dict[str, Any]) -> None:
        self.stub.add_response("describe_stream", {"StreamDescription": {
            "StreamArn": self.arn[table], "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES",
            "TableName": table, "KeySchema": [{"AttributeName": "eventId", "KeyType": "HASH"}],
            "Shards": list(shards)}}, {"StreamArn": self.arn[table]})

    def iterator(self, table: str, name: str, after: str | None = None, shard_id: str = SHARD) -> None:
        expected = {"StreamArn": self.arn[table], "ShardId": shard_id}
        expected |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {"ShardIteratorType": "TRIM_HORIZON"}
        self.stub.add_response("get_shard_iterator", {"ShardIterator": name}, expected)

    def page(self, iterator: str, records: list[dict[str, Any]], next_iterator: str | None) -> None:
        answer: dict[str, Any] = {"Records": records}
        if next_iterator:
            answer["NextShardIterator"] = next_iterator
        self.stub.add_response("get_records", answer, {"ShardIterator": iterator, "Limit": ANY})


@pytest.fixture
def script(settings: Any, dynamodb: Any, streams: Any) -> Script:
    return Script(settings, dynamodb, streams)


def test_records_after_an_empty_page_of_a_closed_shard_are_read(script: Script, settings: Any) -> None:
    # given a closed shard whose first GetRecords page is empty, as AWS documents it may be
    events = settings.table("events")
    script.describe(settings.table("participants"))
    script.describe(events, shard("300000000000000000100", "300000000000000000300"))
    script.iterator(events, "it-1")
    script.page("it-1", [], "it-2")
    script.page("it-2", [stream_record("300000000000000000200", "a")], "it-3")
    script.page("it-3", [], None)  # the end of a closed shard: no NextShardIterator
    # when the runner reads the streams once
    with script.stub:
        fed = script.runner.poll(stats := RunStats())
        script.stub.assert_no_pending_responses()
    # then the record behind the empty page reached the handler
    assert fed == 1 and script.seen[events] == ["a"] and stats.records[events] == 1


def test_an_open_shard_is_read_past_empty_pages_and_left_after_a_run_of_them(script: Script, settings: Any) -> None:
    # given an open shard (no EndingSequenceNumber): an empty page, a record, then only empty pages
    events = settings.table("events")
    script.describe(settings.table("participants"))
    script.describe(events, shard("300000000000000000100"))
    script.iterator(events, "it-0")
    script.page("it-0", [], "it-1")
    script.page("it-1", [stream_record("300000000000000000200", "a")], "it-e0")
    for n in range(EMPTY_PAGES_TO_LEAVE_AN_OPEN_SHARD):
        script.page(f"it-e{n}", [], f"it-e{n + 1}")
    # when the runner reads the streams once
    with script.stub:
        fed = script.runner.poll(RunStats())
        # then it read exactly that many empty pages after the record and moved on
        script.stub.assert_no_pending_responses()
    assert fed == 1 and script.seen[events] == ["a"]


def test_records_with_one_sequence_number_in_two_streams_each_get_every_attempt(script: Script, settings: Any) -> None:
    # given (as moto numbers them) one shard id and one sequence number in both streams, and
    # handlers that fail on both records every time
    events, participants = settings.table("events"), settings.table("participants")
    same = "1100000000017454423009"
    script.failing = {"p", "e"}
    script.runner.max_record_attempts = 2
    for round_ in range(2):  # two attempts each, from the shard's start since nothing is done
        for table, key in ((participants, "p"), (events, "e")):
            script.describe(table, shard(same, "1100000000017454423100"))
            script.iterator(table, f"{key}{round_}")
            script.page(f"{key}{round_}", [stream_record(same, key)], None)
    for table in (participants, events):  # a third round finds both given up and nothing new
        script.describe(table, shard(same, "1100000000017454423100"))
        script.iterator(table, "after", after=same)
        script.page("after", [], None)
    # when the runner drains
    with script.stub:
        stats = script.runner.drain()
        script.stub.assert_no_pending_responses()
    # then each record was handed over twice before it was given up
    assert script.seen == {participants: ["p", "p"], events: ["e", "e"]}
    assert sorted(g["table"] for g in stats.given_up) == sorted([participants, events])


def saved(tmp_path: Any, script: Script, table: str, position: str) -> PositionStore:
    path = tmp_path / "positions.json"
    store = PositionStore(path, endpoint="http://local")
    store.set(script.arn[table], SHARD, position)
    script.runner.positions = PositionStore(path, endpoint="http://local")
    return script.runner.positions


@pytest.mark.parametrize(("position", "why"), [
    ("300000000000000000099", "before"),   # before the shard's StartingSequenceNumber
    ("300000000000000000301", "after"),    # after a closed shard's EndingSequenceNumber
])
def test_a_saved_position_outside_the_shards_range_is_bad_input(script: Script, settings: Any, tmp_path: Any, position: str, why: str) -> None:
    # given a positions file naming a sequence number DescribeStream says is not in the shard
    events = settings.table("events")
    store = saved(tmp_path, script, events, position)
    script.describe(settings.table("participants"))
    script.describe(events, shard("300000000000000000100", "300000000000000000300"))
    # when the runner reads the streams
    with script.stub, pytest.raises(BadInput) as raised:
        script.runner.drain()
    # then it says which file, shard and position, and why, without reading the shard
    failure = explain(raised.value)
    assert failure.exit_code is ExitCode.BAD_INPUT
    assert str(store.path) in failure.message and SHARD in failure.message and position in failure.message
    assert why in failure.message and "\n" not in failure.message
    assert failure.hint is not None and "--from-start" in failure.hint


def test_a_saved_position_the_endpoint_fails_on_is_bad_input(script: Script, settings: Any, tmp_path: Any) -> None:
    # given an open shard, a saved position inside its range, and an endpoint that answers the
    # AFTER_SEQUENCE_NUMBER request with HTTP 500 (what DynamoDB Local does for an unknown one)
    # while it starts the same shard from TRIM_HORIZON without complaint
    events = settings.table("events")
    position = "1000000000000000000000000000000"
    store = saved(tmp_path, script, events, position)
    script.describe(settings.table("participants"))
    script.describe(events, shard("300000000000000000100"))
    script.stub.add_client_error("get_shard_iterator", service_error_code="InternalFailure",
                                 service_message="The request processing has failed because of an unknown error, exception or failure.",
                                 http_status_code=500)
    script.iterator(events, "from-start")
    # when the runner reads the streams
    with script.stub, pytest.raises(BadInput) as raised:
        script.runner.drain()
    # then the operator learns which file, shard and position the endpoint would not start after
    failure = explain(raised.value)
    assert failure.exit_code is ExitCode.BAD_INPUT
    assert str(store.path) in failure.message and SHARD in failure.message and position in failure.message
    assert "InternalFailure" in failure.message and "\n" not in failure.message
    assert failure.hint is not None and "--from-start" in failure.hint


def test_a_saved_position_too_short_for_the_api_is_one_line_of_bad_input(script: Script, settings: Any, tmp_path: Any) -> None:
    # given an open shard numbered like DynamoDB Local's and a hand-edited position of 5 digits
    # (the API takes 21 to 40), which botocore refuses to send
    events = settings.table("events")
    store = saved(tmp_path, script, events, "12345")
    script.describe(settings.table("participants"))
    script.describe(events, shard("000000000000000000001"))
    script.stub.add_response("get_shard_iterator", {"ShardIterator": "never"})  # botocore's check comes first
    # when the runner reads the streams
    with script.stub, pytest.raises(BadInput) as raised:
        script.runner.drain()
    # then one line names the file, the shard and botocore's reason
    failure = explain(raised.value)
    assert failure.exit_code is ExitCode.BAD_INPUT and "\n" not in failure.message
    assert str(store.path) in failure.message and SHARD in failure.message and "not a sequence number" in failure.message


def test_skipping_to_the_end_finds_the_last_record_even_behind_an_empty_page(script: Script, settings: Any, tmp_path: Any) -> None:
    # given a closed events shard whose record lies behind an empty first page
    events = settings.table("events")
    script.runner.positions = PositionStore(tmp_path / "positions.json", endpoint="http://local")
    script.describe(settings.table("participants"))
    script.describe(events, shard("300000000000000000100", "300000000000000000300"))
    script.iterator(events, "it-1")
    script.page("it-1", [], "it-2")
    script.page("it-2", [stream_record("300000000000000000200", "a")], None)
    # when the runner is moved to the streams' end (as the demo does) (like StartingPosition LATEST)
    with script.stub:
        moved = script.runner.skip_to_end()
        script.stub.assert_no_pending_responses()
    # then the shard's position is that record, and nothing was handed to the handlers
    assert moved == 1 and script.runner.positions.get(script.arn[events], SHARD) == "300000000000000000200"
    assert script.seen[events] == []
