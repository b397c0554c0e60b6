"""Seeding the membership mirror beside the live path, handing the counts over, and verifying
it, on each engine. The live path is the real handler fed Lambda-format batches; every check
reads the tables raw."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import backfill.mirror.seed as seed_module
from backfill.cli.main import cli
from backfill.mirror.seed import seed_mirror
from backfill.table.target import Target
from chalicelib.mirror import MirrorWriter
from chalicelib.streams import process_source_batch
from tests.integration.test_mirror_live_path import (
    count_of,
    given_event,
    join,
    leave,
    rows,
    seed_writers,
)
from tests.unit.streams.conftest import batch

pytestmark = pytest.mark.usefixtures("mirrored")

SCHEMA = ["--schema", "chalicelib.schema.mirrored:EVENTS"]


@pytest.fixture
def target(dynamodb: Any, live_settings: Any) -> Target:
    return Target(settings=live_settings)


@pytest.fixture
def target_engine(endpoint: Any) -> str:
    return str(endpoint.name)


def given_participants(dynamodb: Any, event_id: str, *ids: str) -> None:
    for p in ids:
        dynamodb.put_item(TableName="participants", Item={"eventId": {"S": event_id}, "participantId": {"S": p}})


def marked(dynamodb: Any, event_id: str) -> bool:
    item = dynamodb.get_item(TableName="events", Key={"eventId": {"S": event_id}}, ConsistentRead=True)["Item"]
    return item.get("participantCountMirrored") == {"BOOL": True}


@pytest.fixture
def backfill(endpoint: Any, endpoint_url: str) -> Any:
    def run(*args: str) -> Any:
        writers = ["--writers", str(seed_writers(endpoint.name))] if args[0] == "seed" else []
        return CliRunner().invoke(cli, [*SCHEMA, "mirror", *args, *writers, "--endpoint-url", endpoint_url,
                                        "--region", "us-east-1"])
    return run


def test_seed_hands_the_counts_over_and_verify_checks_them(dynamodb, backfill, deps):
    # given two unmarked events whose counts are stale, and their participants
    given_event(dynamodb, "e1", count=9, marked=False)
    given_event(dynamodb, "e2", count=0, marked=False)
    given_participants(dynamodb, "e1", "a", "b", "c")
    given_participants(dynamodb, "e2", "x")
    # when the CLI seeds the mirror
    seeded = backfill("seed", "--yes", "--json")
    # then every participant has a present row, and both events are marked with exact counts
    assert seeded.exit_code == 0, seeded.output
    assert json.loads(seeded.stdout[seeded.stdout.index("{"):])["marked"] == 2
    assert rows(dynamodb, "e1") == {"a": True, "b": True, "c": True} and rows(dynamodb, "e2") == {"x": True}
    assert (count_of(dynamodb, "e1"), count_of(dynamodb, "e2")) == (3, 1)
    assert marked(dynamodb, "e1") and marked(dynamodb, "e2")
    # and the live path moves marked counts by +-1 (the source table changed as the records say)
    given_participants(dynamodb, "e1", "d")
    dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": "a"}})
    process_source_batch(batch(join("e1", "d", 1), leave("e1", "a", 2)), deps)
    assert count_of(dynamodb, "e1") == 3
    # and verify finds nothing; a second seed changes nothing
    assert backfill("verify").exit_code == 0
    again = backfill("seed", "--yes", "--json")
    assert json.loads(again.stdout[again.stdout.index("{"):])["rows"] == {"stale": 4}
    assert count_of(dynamodb, "e1") == 3


def test_verify_finds_a_wrong_count_a_missing_and_an_extra_member(dynamodb, backfill):
    given_event(dynamodb, "e1", marked=False)
    given_participants(dynamodb, "e1", "a", "b")
    assert backfill("seed", "--yes").exit_code == 0
    # when the count, the mirror and the source table are tampered with, raw
    dynamodb.update_item(TableName="events", Key={"eventId": {"S": "e1"}}, UpdateExpression="SET participantCount = :n",
                         ExpressionAttributeValues={":n": {"N": "5"}})
    dynamodb.delete_item(TableName="participant_members", Key={"eventId": {"S": "e1"}, "participantId": {"S": "a"}})
    dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": "b"}})
    result = backfill("verify", "--json")
    # then each is one finding, and verify exits 1
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert sorted((f["kind"], f["detail"]) for f in report["findings"]) == [
        ("count", "count 5, the mirror has 1 present row(s)"),
        ("extra member", "member 'b' is present in the mirror, not in the source table"),
        ("missing member", "member 'a' is in the source table, not present in the mirror"),
    ]


def test_a_declaration_without_a_mirror_is_one_error_line(endpoint_url):
    result = CliRunner().invoke(cli, ["mirror", "seed", "--yes", "--endpoint-url", endpoint_url])
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == ("Error: declaration chalicelib.schema.current:CURRENT keeps no count "
                                             "with a membership mirror")


def test_a_member_removed_while_the_seed_runs_is_not_brought_back(dynamodb, target, target_engine, deps, monkeypatch):
    given_event(dynamodb, "e1", marked=False)
    given_participants(dynamodb, "e1", "a", "b")
    real_scan = seed_module.parallel_scan

    def scan_then_remove(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for page in real_scan(*args, **kwargs):
            if kwargs.get("projection", "").count("#a") == 2:  # the source scan: a is in this page
                dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": "a"}})
                process_source_batch(batch(leave("e1", "a", 1)), deps)  # the live path applies the REMOVE
            yield page

    monkeypatch.setattr(seed_module, "parallel_scan", scan_then_remove)
    # when the seed writes the rows it read before a was removed
    result = seed_mirror(target, segments=1, threads=seed_writers(target_engine))
    # then a stays a tombstone, and the count handed over is b alone
    assert result.ok and result.outcomes["stale"] == 1
    assert rows(dynamodb) == {"a": False, "b": True} and count_of(dynamodb) == 1 and marked(dynamodb, "e1")


def test_the_backfill_and_the_live_path_racing_on_one_event(dynamodb, target, target_engine, deps, monkeypatch):
    # given an event with three participants, one of them already mirrored by a live join
    given_event(dynamodb, "e1", count=3, marked=False)
    given_participants(dynamodb, "e1", "a", "b", "c")
    process_source_batch(batch(join("e1", "c", 1)), deps)
    real_count = MirrorWriter.present_count
    moves = iter([("d", "join"), ("b", "leave")])

    def count_then_live_change(self: MirrorWriter, group: str) -> int:
        n = real_count(self, group)
        move = next(moves, None)  # a live change lands between the mark's count and its write
        if move is not None:
            member, kind = move
            if kind == "join":
                given_participants(dynamodb, "e1", member)
                process_source_batch(batch(join("e1", member, 2)), deps)
            else:
                dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": member}})
                process_source_batch(batch(leave("e1", member, 3)), deps)
        return n

    monkeypatch.setattr(MirrorWriter, "present_count", count_then_live_change)
    # when the seed runs and two live changes race its mark
    result = seed_mirror(target, segments=1, threads=seed_writers(target_engine))
    # then the mark counted again after each, and the count handed over is exact
    assert result.ok and result.marked == 1
    assert rows(dynamodb) == {"a": True, "b": False, "c": True, "d": True}
    assert count_of(dynamodb) == 3 and marked(dynamodb, "e1")
    # and once marked, the live path keeps it exact
    dynamodb.delete_item(TableName="participants", Key={"eventId": {"S": "e1"}, "participantId": {"S": "c"}})
    process_source_batch(batch(leave("e1", "c", 4)), deps)
    assert count_of(dynamodb) == 2


def test_backfill_verify_runs_the_mirror_checks_too(dynamodb, backfill, endpoint_url):
    # given a seeded mirror, one of whose rows is then lost
    given_event(dynamodb, "e1", marked=False)
    given_participants(dynamodb, "e1", "a", "b")
    assert backfill("seed", "--yes").exit_code == 0
    whole = CliRunner().invoke(cli, [*SCHEMA, "verify", "--no-snapshot", "--json", "--endpoint-url", endpoint_url,
                                     "--region", "us-east-1"])
    assert whole.exit_code == 0, whole.output
    dynamodb.delete_item(TableName="participant_members", Key={"eventId": {"S": "e1"}, "participantId": {"S": "a"}})
    # when the whole table is verified
    result = CliRunner().invoke(cli, [*SCHEMA, "verify", "--no-snapshot", "--json", "--endpoint-url", endpoint_url,
                                      "--region", "us-east-1"])
    # then the events themselves pass, the mirror's findings fail the run
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["ok"] is True and report["mirror"]["ok"] is False
    assert {f["kind"] for f in report["mirror"]["findings"]} == {"missing member", "count"}
