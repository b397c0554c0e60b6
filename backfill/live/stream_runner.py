"""Local stream runner: what Lambda's event source mappings do, for endpoints without Lambda.

Reads the DynamoDB Streams of the tables the declaration names shard by shard (moto server,
LocalStack, or AWS), turns GetRecords records into Lambda-shaped events, and calls the very
handlers app.py deploys. Like a mapping it keeps a position per shard, retries a batch from its
first failed record, and gives up on a record after a retry limit (it is logged and counted).

Draining loops until a whole round over every stream finds no new record: the target table's handler's
own writes come back on its stream and must be read (and found current) before the
streams are quiet.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from backfill.errors import BadInput
from backfill.run.backup import write_json_atomic
from backfill.run.store import LocalStore
from chalicelib.schema import active_schema
from chalicelib.streams import BatchResult, process_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.records import RECORD_ID
from chalicelib.tables import stream_arn

logger = logging.getLogger(__name__)

# Next to backups and checkpoints (a git-ignored working directory of the CLI).
DEFAULT_POSITIONS_FILE = Path("backups") / "stream-positions.json"
MAX_DRAIN_ROUNDS = 50
MAX_RECORD_ATTEMPTS = 3
GET_RECORDS_LIMIT = 1000  # the API's maximum: AWS and DynamoDB Local refuse more (moto does not)
# GetRecords may answer an empty page while later parts of a shard hold records (AWS's API
# reference), so a page without records does not end a shard. A closed shard is read until it
# gives no NextShardIterator; an open one always gives one, so a round leaves it after this many
# empty pages in a row (the next round starts again after the last handled record). Three keeps
# a round over an idle shard at 1 GetShardIterator + 3 GetRecords, under DynamoDB Streams'
# 5 GetRecords per second per shard.
EMPTY_PAGES_TO_LEAVE_AN_OPEN_SHARD = 3
_POSITION_HINT = ("delete the positions file, or run with --from-start, to read every shard from its oldest "
                  "record (handlers skip what is already current)")

BatchHandler = Callable[[Mapping[str, Any], Dependencies], BatchResult]


def lambda_record(stream_record: Mapping[str, Any], *, source_arn: str, region: str) -> dict[str, Any]:
    """The record Lambda would deliver for one GetRecords record (as boto3 returns it).

    Exactly Lambda's JSON, so a local run and a Lambda run hand the handlers the same input:
    boto3 gives binary values as bytes and ApproximateCreationDateTime as a datetime, Lambda
    gives base64 text and epoch seconds; moto gives no eventSourceARN, Lambda always does.
    """
    body = dict(stream_record["dynamodb"])
    for image in ("Keys", "NewImage", "OldImage"):
        if isinstance(body.get(image), Mapping):
            body[image] = {name: aws_spelling(value) for name, value in body[image].items()}
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        seconds = created.timestamp()
        body["ApproximateCreationDateTime"] = int(seconds) if seconds.is_integer() else seconds
    body.setdefault("SizeBytes", 0)
    body.setdefault("StreamViewType", "NEW_AND_OLD_IMAGES")
    record = {
        RECORD_ID: stream_record.get(RECORD_ID, body["SequenceNumber"]),
        "eventName": stream_record["eventName"],
        "eventVersion": stream_record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_record.get("awsRegion") or region,
        "eventSourceARN": stream_record.get("eventSourceARN") or source_arn,
        "dynamodb": body,
    }
    # Through JSON and back: whatever reaches the handlers is what a JSON payload can carry.
    return json.loads(json.dumps(record, default=_wire_value))


def aws_spelling(value: Any) -> Any:
    """An image's attribute value as AWS spells it. DynamoDB Local's GetRecords spells an empty map
    ``{}`` (a value with no type) instead of ``{"M": {}}``, at any depth; AWS never sends a value
    without a type, so ``{}`` can only be that. Everything else is passed on as it is (the handler
    rejects what it cannot decode)."""
    if not isinstance(value, Mapping):
        return value
    if not value:
        return {"M": {}}
    if isinstance(value.get("M"), Mapping) and len(value) == 1:
        return {"M": {name: aws_spelling(inner) for name, inner in value["M"].items()}}
    if isinstance(value.get("L"), list) and len(value) == 1:
        return {"L": [aws_spelling(inner) for inner in value["L"]]}
    return value


def _wire_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"a stream record holds a {type(value).__name__}, which Lambda's JSON cannot carry")


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


class PositionStore:
    """Last handled sequence number per shard, kept in a small JSON file (or only in memory)."""

    def __init__(self, path: Path | None, *, endpoint: str, from_start: bool = False) -> None:
        self.path = path
        self.endpoint = endpoint
        self._positions: dict[str, str] = {}
        saved = self._read()  # read even with from_start: a garbled file is reported, not overwritten
        if not from_start:
            self._positions = dict(saved.get(endpoint, {}))

    def _read(self) -> dict[str, dict[str, str]]:
        """Every endpoint's positions from the file ({} if there is none). Raises BadInput."""
        if self.path is None or not os.path.lexists(self.path):
            return {}
        hint = "fix or delete the file (deleting it makes the next run read every shard from its oldest record)"
        try:  # not through a symlink: a link planted in a shared directory is refused, naming it
            saved = json.loads(LocalStore(self.path.parent, check_directory=False).read_bytes(self.path.name))
        except json.JSONDecodeError as error:
            raise BadInput(f"stream positions file {self.path} line {error.lineno} is garbled: {error.msg}", hint=hint) from error
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"stream positions file {self.path} cannot be read: {error}", hint=hint) from error
        if not isinstance(saved, dict) or not all(
            isinstance(shards, dict) and all(isinstance(s, str) for s in shards.values()) for shards in saved.values()
        ):
            raise BadInput(f"stream positions file {self.path} line 1 is not a map of endpoint -> shard -> "
                           "sequence number", hint=hint)
        return saved

    @staticmethod
    def key(arn: str, shard_id: str) -> str:
        return f"{arn}#{shard_id}"

    def describe(self) -> str:
        return f"stream positions file {self.path}" if self.path is not None else "the stream positions held in memory"

    def get(self, arn: str, shard_id: str) -> str | None:
        return self._positions.get(self.key(arn, shard_id))

    def set(self, arn: str, shard_id: str, sequence_number: str) -> None:
        self._positions[self.key(arn, shard_id)] = sequence_number
        if self.path is not None:
            every: dict[str, Any] = self._read()
            every[self.endpoint] = self._positions
            write_json_atomic(self.path, every)


@dataclass
class RunStats:
    rounds: int = 0
    batches: int = 0
    records: Counter[str] = field(default_factory=Counter)  # per table
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)  # per table
    retried: int = 0  # batches re-read from a failed record
    given_up: list[dict[str, str]] = field(default_factory=list)  # records past the retry limit
    lag_s: float | None = None  # age of the newest record of the last batch when it was handled
    # Told after every batch (the CLI's progress line); not part of the figures.
    on_batch: Callable[[RunStats], None] | None = field(default=None, repr=False, compare=False)

    def add(self, table: str, result: BatchResult, records: int, *, newest: datetime | None = None) -> None:
        self.batches += 1
        self.records[table] += records
        self.outcomes.setdefault(table, Counter()).update(result.stats)
        if newest is not None:
            self.lag_s = max(0.0, time.time() - newest.timestamp())
        if self.on_batch is not None:
            self.on_batch(self)

    def total_records(self) -> int:
        return sum(self.records.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "batches": self.batches,
            "records": dict(self.records),
            "outcomes": {table: dict(counts) for table, counts in self.outcomes.items()},
            "retried_batches": self.retried,
            "given_up": self.given_up,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 1),
        }


@dataclass
class _Stream:
    table: str
    arn: str
    handle: BatchHandler


class StreamRunner:
    """Feeds the stream handlers from the streams of ``target`` (settings, dynamodb, streams)."""

    def __init__(
        self,
        target: Any,
        *,
        batch_size: int = 100,
        positions: PositionStore | None = None,
        dependencies: Dependencies | None = None,
        max_record_attempts: int = MAX_RECORD_ATTEMPTS,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.settings = target.settings
        self.dynamodb = target.dynamodb
        self.streams_client = target.streams
        self.batch_size = batch_size
        self.positions = positions or PositionStore(None, endpoint=self.dynamodb.meta.endpoint_url)
        self.dependencies = dependencies or Dependencies(self.settings, self.dynamodb)
        self.max_record_attempts = max_record_attempts
        # Failed attempts per record: (stream ARN, shard id, sequence number), since sequence
        # numbers are unique only within a shard (moto numbers both streams' shards alike).
        self._attempts: Counter[tuple[str, str, str]] = Counter()
        self._streams: list[_Stream] | None = None

    @property
    def streams(self) -> list[_Stream]:
        if self._streams is None:
            # Every table the declaration names: the aggregates' sources first, then its own.
            tables = active_schema().tables
            self._streams = [
                _Stream(actual, stream_arn(self.dynamodb, actual), functools.partial(process_batch, declared))
                for declared in (*tables[1:], tables[0])
                for actual in (self.settings.table(declared),)
            ]
        return self._streams

    def drain(self, *, max_rounds: int = MAX_DRAIN_ROUNDS, stats: RunStats | None = None) -> RunStats:
        """Feed everything in both streams, round after round, until a round finds nothing."""
        stats = stats or RunStats()
        for _ in range(max_rounds):
            if self.poll(stats) == 0:
                return stats
        logger.warning("streams still busy after %d rounds; stopping the drain", max_rounds)
        return stats

    def follow(
        self,
        *,
        interval: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
        stats: RunStats | None = None,
    ) -> RunStats:
        """Keep tailing both streams until ``should_stop()`` (or Ctrl-C, raised to the caller)."""
        stats = stats or RunStats()
        while not should_stop():
            if self.poll(stats) == 0:
                time.sleep(interval)
        return stats

    def poll(self, stats: RunStats) -> int:
        """One round: every shard of both streams read to its end. Returns records fed."""
        stats.rounds += 1
        fed = 0
        for stream in self.streams:
            for shard in self._shards(stream.arn):
                fed += self._feed_shard(stream, shard, stats)
        return fed

    def skip_to_end(self) -> int:
        """Move every shard's position to its last record without feeding anything (a mapping
        created with StartingPosition LATEST). Returns the shards moved."""
        moved = 0
        for stream in self.streams:
            for shard in self._shards(stream.arn):
                records = self._read_shard(stream.arn, shard)
                if records:
                    self.positions.set(stream.arn, shard["ShardId"], records[-1]["dynamodb"]["SequenceNumber"])
                    moved += 1
        return moved

    def _shards(self, arn: str) -> Iterator[dict[str, Any]]:
        """DescribeStream's shards (ShardId, SequenceNumberRange), every page of them."""
        kwargs: dict[str, Any] = {"StreamArn": arn}
        while True:
            description = self.streams_client.describe_stream(**kwargs)["StreamDescription"]
            yield from description.get("Shards", [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            kwargs["ExclusiveStartShardId"] = last

    def _iterator(self, arn: str, shard: Mapping[str, Any]) -> str | None:
        """An iterator after the saved position of ``shard``, or at its oldest record.

        A saved position the endpoint does not know (outside the shard's SequenceNumberRange,
        refused by the endpoint) raises BadInput: reading the shard again from its start, or not
        at all, must be the operator's choice."""
        shard_id = shard["ShardId"]
        after = self.positions.get(arn, shard_id)
        kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
        if after is None:
            return self.streams_client.get_shard_iterator(**kwargs).get("ShardIterator")
        self._check_in_range(after, arn, shard)
        try:
            return self.streams_client.get_shard_iterator(
                **kwargs | {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            ).get("ShardIterator")
        except ParamValidationError as error:
            raise self._unknown_position(after, arn, shard_id, f"it is not a sequence number ({' '.join(str(error).split())})") from None
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            said = f"{code}: {error.response.get('Error', {}).get('Message', '')}"
            if code == "TrimmedDataAccessException":  # older than the stream keeps (24 hours on AWS)
                logger.warning("position %s of shard %s is past the stream's retention (%s); reading from "
                               "TRIM_HORIZON", after, shard_id, said)
                return self.streams_client.get_shard_iterator(**kwargs).get("ShardIterator")
            if code == "ValidationException":
                raise self._unknown_position(after, arn, shard_id, f"the endpoint refuses it ({said})") from None
            if status >= 500:
                # DynamoDB Local answers an unknown position with HTTP 500 InternalFailure. If the
                # same shard starts fine from TRIM_HORIZON, it is the position; else the endpoint.
                try:
                    self.streams_client.get_shard_iterator(**kwargs)
                except ClientError:
                    raise error from None
                raise self._unknown_position(after, arn, shard_id, f"the endpoint fails on it with HTTP {status} "
                                             f"({said}) but starts the shard from its oldest record") from None
            raise

    def _check_in_range(self, after: str, arn: str, shard: Mapping[str, Any]) -> None:
        """BadInput if DescribeStream's SequenceNumberRange shows ``after`` is not in ``shard``."""
        if not after.isdigit():
            raise self._unknown_position(after, arn, shard["ShardId"], "it is not a sequence number (digits)")
        numbers = shard.get("SequenceNumberRange", {})
        first, last = numbers.get("StartingSequenceNumber"), numbers.get("EndingSequenceNumber")
        if first is not None and int(after) < int(first):
            raise self._unknown_position(after, arn, shard["ShardId"], f"it is before the shard's first sequence number {first}")
        if last is not None and int(after) > int(last):
            raise self._unknown_position(after, arn, shard["ShardId"], f"it is after the closed shard's last sequence number {last}")

    def _unknown_position(self, after: str, arn: str, shard_id: str, reason: str) -> BadInput:
        return BadInput(f"{self.positions.describe()}: the saved position {after} of shard {shard_id} of stream "
                        f"{arn} is not one the endpoint knows: {reason}", hint=_POSITION_HINT)

    def _read_shard(self, arn: str, shard: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The shard's records after the saved position, read past empty pages (see above)."""
        closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
        records: list[dict[str, Any]] = []
        empty_pages = 0
        iterator = self._iterator(arn, shard)
        while iterator:
            page = self.streams_client.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
            records.extend(page.get("Records", []))
            empty_pages = 0 if page.get("Records") else empty_pages + 1
            if not closed and empty_pages >= EMPTY_PAGES_TO_LEAVE_AN_OPEN_SHARD:
                break
            iterator = page.get("NextShardIterator")
        return records

    def _feed_shard(self, stream: _Stream, shard: Mapping[str, Any], stats: RunStats) -> int:
        shard_id = shard["ShardId"]
        records = self._read_shard(stream.arn, shard)
        region = self.settings.region
        fed = 0
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            event = lambda_event([lambda_record(r, source_arn=stream.arn, region=region) for r in chunk])
            result = stream.handle(event, self.dependencies)
            created = chunk[-1]["dynamodb"].get("ApproximateCreationDateTime")
            stats.add(stream.table, result, len(chunk), newest=created if isinstance(created, datetime) else None)
            fed += len(chunk)
            last_done = self._last_done(stream, shard_id, chunk, result, stats)
            if last_done is not None:
                self.positions.set(stream.arn, shard_id, last_done)
            if last_done != chunk[-1]["dynamodb"]["SequenceNumber"]:
                stats.retried += 1
                break  # like Lambda: the next round starts again at the first failed record
        return fed

    def _last_done(
        self, stream: _Stream, shard_id: str, chunk: list[dict[str, Any]], result: BatchResult, stats: RunStats
    ) -> str | None:
        """The sequence number up to which the shard may advance after this batch."""
        failed = set(result.failed_sequence_numbers)
        previous = None
        for record in chunk:
            sequence = record["dynamodb"]["SequenceNumber"]
            if sequence in failed:
                record_id = (stream.arn, shard_id, sequence)
                self._attempts[record_id] += 1
                if self._attempts[record_id] < self.max_record_attempts:
                    return previous
                logger.error(
                    "giving up on record %s of %s after %d attempts", sequence, stream.table, self._attempts[record_id]
                )
                stats.given_up.append({"table": stream.table, "sequenceNumber": sequence, "keys": json.dumps(record["dynamodb"].get("Keys"), sort_keys=True)})
            previous = sequence
        return previous
