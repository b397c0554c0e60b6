"""The membership mirror under random delivery, on each engine: the application joins and leaves,
its records reach the real handler (Lambda-format batches) in Lambda's order, again as stale
duplicates, or with some members' transactions throttled (a partial batch failure: Lambda then
delivers again from the first failed record); the seed runs at random points, records in flight.

Always: a marked event's count equals its present mirror rows. Once every record is delivered:
the rows are exactly the source table's members, and every count is exact (read raw)."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
from botocore.config import Config
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backfill.mirror.seed import seed_mirror
from backfill.table.target import Target
from chalicelib.schema import use_schema
from chalicelib.schema.mirrored import EVENTS
from chalicelib.streams import process_source_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.tables import create_tables
from tests.integration.faults.injection import throttling_response
from tests.integration.test_mirror_live_path import given_event, join, leave, seed_writers
from tests.support.stateful import over_http

EVENT_IDS = ("e0", "e1")
MEMBERS = ("a", "b", "c")


class MirrorDelivery(RuleBasedStateMachine):
    def __init__(self, endpoint: Any, live_settings: Any) -> None:
        super().__init__()
        endpoint.reset()
        self.writers = seed_writers(endpoint.name)
        self.settings = live_settings
        self.target = Target(settings=live_settings)
        self.dynamodb = self.target.dynamodb
        create_tables(self.dynamodb, live_settings)
        for event_id in EVENT_IDS:
            given_event(self.dynamodb, event_id, marked=False)
        self.members: dict[str, set[str]] = {e: set() for e in EVENT_IDS}
        self.records: list[dict[str, Any]] = []  # the stream, in order
        self.checkpoint = 0  # records before it are done (Lambda's position in the shard)
        self.sequence = itertools.count(1)
        self.throttled: set[str] = set()
        flaky = boto3.client("dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
                             config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        flaky.meta.events.register("before-send", self._throttle)
        self.deps = Dependencies(live_settings, flaky)

    def _throttle(self, request: Any, event_name: str = "", **_: Any) -> Any:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if event_name.endswith("TransactWriteItems") and any(f'"{m}"' in body for m in self.throttled):
            return throttling_response(request.url, "ProvisionedThroughputExceededException")
        return None

    @rule(event_id=st.sampled_from(EVENT_IDS), member=st.sampled_from(MEMBERS))
    def app_toggles(self, event_id: str, member: str) -> None:
        key = {"eventId": {"S": event_id}, "participantId": {"S": member}}
        if member in self.members[event_id]:
            self.dynamodb.delete_item(TableName="participants", Key=key)
            self.members[event_id].discard(member)
            self.records.append(leave(event_id, member, next(self.sequence)))
        else:
            self.dynamodb.put_item(TableName="participants", Item=key)
            self.members[event_id].add(member)
            self.records.append(join(event_id, member, next(self.sequence)))

    @precondition(lambda self: self.checkpoint < len(self.records))
    @rule(size=st.integers(1, 4), throttled=st.sets(st.sampled_from(MEMBERS), max_size=1))
    def deliver(self, size: int, throttled: set[str]) -> None:
        """The next records from the checkpoint; a throttled member's records fail, and the
        checkpoint stops at the first failed one (ReportBatchItemFailures)."""
        window = self.records[self.checkpoint:self.checkpoint + size]
        self.throttled = throttled
        result = process_source_batch({"Records": window}, self.deps)
        self.throttled = set()
        failed = set(result.failed_sequence_numbers)
        done = next((i for i, r in enumerate(window) if r["dynamodb"]["SequenceNumber"] in failed), len(window))
        self.checkpoint += done

    @precondition(lambda self: self.checkpoint > 0)
    @rule(data=st.data())
    def redeliver_old(self, data: st.DataObject) -> None:
        """A duplicate of records already done, delivered late (after newer ones)."""
        start = data.draw(st.integers(0, self.checkpoint - 1))
        size = data.draw(st.integers(1, self.checkpoint - start))
        assert process_source_batch({"Records": self.records[start:start + size]}, self.deps).failed_sequence_numbers == []

    @rule()
    def seed(self) -> None:
        assert seed_mirror(self.target, segments=1, threads=self.writers).ok

    @invariant()
    def marked_counts_equal_present_rows(self) -> None:
        for event_id in EVENT_IDS:
            item = self.dynamodb.get_item(TableName="events", Key={"eventId": {"S": event_id}}, ConsistentRead=True)["Item"]
            if "participantCountMirrored" in item:
                assert int(item["participantCount"]["N"]) == len(self._present(event_id)), event_id

    def teardown(self) -> None:
        while self.checkpoint < len(self.records):
            self.deliver(4, set())
        for event_id in EVENT_IDS:
            item = self.dynamodb.get_item(TableName="events", Key={"eventId": {"S": event_id}}, ConsistentRead=True)["Item"]
            assert int(item["participantCount"]["N"]) == len(self.members[event_id]), event_id
            if "participantCountMirrored" in item:
                assert self._present(event_id) == self.members[event_id], event_id

    def _present(self, event_id: str) -> set[str]:
        rows = self.dynamodb.query(TableName="participant_members", KeyConditionExpression="eventId = :e",
                                   ExpressionAttributeValues={":e": {"S": event_id}}, ConsistentRead=True)["Items"]
        return {r["participantId"]["S"] for r in rows if r["present"]["BOOL"]}


def test_random_delivery_and_seeding_keep_the_counts_exact(endpoint, live_settings):
    with use_schema(EVENTS):
        run_state_machine_as_test(
            lambda: MirrorDelivery(endpoint, live_settings),
            settings=over_http(examples=8, steps=12),  # a few seconds per engine
        )
