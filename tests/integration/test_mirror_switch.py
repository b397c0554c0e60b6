"""Switching participantCount from recount to mirror on a live table, following
docs/how-to/mirror.md step by step, on each engine: the application keeps writing throughout,
each of its writes reaches the live path as a Lambda-format record, and after every batch every
event's count equals its participants in the source table, read raw."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import backfill.mirror.seed as seed_module
from backfill.cli.main import cli
from backfill.mirror.seed import seed_mirror
from backfill.table.target import Target
from chalicelib.mirror import MirrorWriter
from chalicelib.schema import CURRENT, use_schema
from chalicelib.schema.mirrored import EVENTS
from chalicelib.streams import process_source_batch
from chalicelib.streams.dependencies import Dependencies
from tests.integration.test_mirror_live_path import given_event, join, leave, seed_writers
from tests.unit.streams.conftest import batch

EVENT_IDS = ("e1", "e2", "e3")


class App:
    """The application: joins and leaves written to the participants table, each handed to the
    live path of whichever declaration is deployed, one small batch at a time."""

    def __init__(self, dynamodb: Any, settings: Any) -> None:
        self.dynamodb, self.settings = dynamodb, settings
        self.rng = random.Random(27)
        self.members: dict[str, set[str]] = {e: set() for e in EVENT_IDS}
        self.sequence = itertools.count(1)
        self.checks = 0

    def write_and_deliver(self, changes: int = 3) -> None:
        records = []
        for _ in range(changes):
            event_id = self.rng.choice(EVENT_IDS)
            member = f"p{self.rng.randrange(12)}"
            key = {"eventId": {"S": event_id}, "participantId": {"S": member}}
            if member in self.members[event_id]:
                self.dynamodb.delete_item(TableName="participants", Key=key)
                self.members[event_id].discard(member)
                records.append(leave(event_id, member, next(self.sequence)))
            else:
                self.dynamodb.put_item(TableName="participants", Item=key)
                self.members[event_id].add(member)
                records.append(join(event_id, member, next(self.sequence)))
        result = process_source_batch(batch(*records), Dependencies(self.settings, self.dynamodb))
        assert result.failed_sequence_numbers == []
        self.assert_counts_exact()

    def assert_counts_exact(self) -> None:
        for event_id in EVENT_IDS:
            found = self.dynamodb.query(TableName="participants", KeyConditionExpression="eventId = :e",
                                        ExpressionAttributeValues={":e": {"S": event_id}}, Select="COUNT",
                                        ConsistentRead=True)["Count"]
            item = self.dynamodb.get_item(TableName="events", Key={"eventId": {"S": event_id}}, ConsistentRead=True)["Item"]
            assert int(item["participantCount"]["N"]) == found == len(self.members[event_id]), event_id
        self.checks += 1


@pytest.fixture
def app(dynamodb: Any, live_settings: Any) -> App:
    return App(dynamodb, live_settings)


def test_switching_a_live_table_from_recount_to_mirror(dynamodb, live_settings, endpoint, endpoint_url, app, monkeypatch):
    # given events whose counts the recount keeps, under live traffic
    for event_id in EVENT_IDS:
        given_event(dynamodb, event_id, marked=False)
    with use_schema(CURRENT):
        for _ in range(4):
            app.write_and_deliver()
    # step 1: create the mirror table (init-tables creates what is missing)
    created = CliRunner().invoke(cli, ["--schema", "chalicelib.schema.mirrored:EVENTS", "init-tables",
                                       "--endpoint-url", endpoint_url, "--region", "us-east-1"])
    assert created.exit_code == 0 and "participant_members" in created.output
    with use_schema(EVENTS):
        # step 2: deploy the mirrored declaration; unmarked events are still recounted
        for _ in range(3):
            app.write_and_deliver()
        # step 3: seed while the application writes: live batches land between the seed's pages
        # and between each mark's count and its write
        real_scan, real_count = seed_module.parallel_scan, MirrorWriter.present_count

        def scan_with_traffic(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for page in real_scan(*args, **{**kwargs, "page_size": 4}):
                app.write_and_deliver()
                yield page

        def count_with_traffic(self: MirrorWriter, group: str) -> int:
            n = real_count(self, group)
            app.write_and_deliver(changes=2)
            return n

        monkeypatch.setattr(seed_module, "parallel_scan", scan_with_traffic)
        monkeypatch.setattr(MirrorWriter, "present_count", count_with_traffic)
        result = seed_mirror(Target(settings=live_settings), segments=1, threads=seed_writers(endpoint.name))
        monkeypatch.undo()
        assert result.ok and result.marked == len(EVENT_IDS)
        # step 4: verify; then the mirror keeps the counts
        verified = CliRunner().invoke(cli, ["--schema", "chalicelib.schema.mirrored:EVENTS", "mirror", "verify",
                                            "--endpoint-url", endpoint_url, "--region", "us-east-1"])
        assert verified.exit_code == 0, verified.output
        for _ in range(4):
            app.write_and_deliver()
    # and the counts were exact after every one of the application's batches
    assert app.checks >= 14
