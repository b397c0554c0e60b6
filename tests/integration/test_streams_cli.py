"""`backfill streams` and `backfill failures` against the moto server, as a user runs them."""

import json
from decimal import Decimal

import boto3
from click.testing import CliRunner

from backfill.cli.main import cli
from chalicelib.item_store import ItemStore
from chalicelib.items import to_typed
from chalicelib.streams.failures import Failure, FailureStore
from tests.support.cli import run_backfill


def run(args, live_settings):
    result = CliRunner().invoke(cli, [*args, "--endpoint-url", live_settings.endpoint_url, "--region", live_settings.region])
    return result


def test_streams_then_failures(dynamodb, live_settings, tmp_path):
    # given one legacy event, one garbled event and one participant
    events = live_settings.table("events")
    dynamodb.put_item(TableName=events, Item=to_typed({"eventId": "ok", "name": "A", "status": "active", "createdAt": Decimal(1_700_000_000_010)}))
    dynamodb.put_item(TableName=events, Item=to_typed({"eventId": "bad", "name": "B", "status": "??", "createdAt": Decimal(1_700_000_000_010)}))
    dynamodb.put_item(TableName=live_settings.table("participants"), Item=to_typed({"eventId": "ok", "participantId": "p"}))
    positions = str(tmp_path / "positions.json")
    # when the runner drains the streams
    drained = run(["streams", "--json", "--positions", positions], live_settings)
    # then it reports what it did and the event is upgraded and counted
    assert drained.exit_code == 0, drained.output
    stats = json.loads(drained.stdout)
    assert stats["outcomes"][events]["upgraded"] == 1 and stats["outcomes"][events]["refused"] == 1
    stored = ItemStore(dynamodb, events).get("ok")
    assert stored["status"] == "live" and stored["participantCount"] == 1
    # and a second run from the saved positions has nothing to do
    again = run(["streams", "--json", "--positions", positions], live_settings)
    assert json.loads(again.stdout)["records"] == {}
    # and the refused event is listed with its reason: the value it quotes only with --show-values
    listed = run(["failures", "--json", "--show-values"], live_settings)
    [row] = json.loads(listed.stdout)
    assert row["itemKey"] == "events#bad" and "??" in " ".join(row["reasons"]) and "image" in row
    [hidden] = json.loads(run(["failures", "--json"], live_settings).stdout)
    assert "??" not in " ".join(hidden["reasons"]) and "<value>" in " ".join(hidden["reasons"])
    assert "image" not in hidden
    table = run(["failures"], live_settings)
    assert table.exit_code == 0 and "events#bad" in table.output


def test_a_saved_position_the_stream_does_not_hold_is_one_line_and_exit_2(dynamodb, live_settings, tmp_path):
    # given a positions file (written by hand, as a stale one from another table would be) whose
    # position for the events stream's shard lies before that shard's first sequence number
    dynamodb.put_item(TableName=live_settings.table("events"), Item=to_typed({"eventId": "ok", "name": "A", "status": "active", "createdAt": Decimal(1_700_000_000_010)}))
    arn = dynamodb.describe_table(TableName=live_settings.table("events"))["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url)
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    positions = tmp_path / "positions.json"
    positions.write_text(json.dumps({live_settings.endpoint_url: {f"{arn}#{shard['ShardId']}": "0" * 21}}))
    # when the runner starts from that file
    result = run(["streams", "--positions", str(positions)], live_settings)
    # then it stops with one line naming the file and the shard, a hint, and exit code 2
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and str(positions) in " ".join(result.stderr.split()), result.stderr
    assert shard["ShardId"] in result.stderr and "--from-start" in result.stderr and "Traceback" not in result.output
    # and --from-start reads the stream from its oldest record
    again = run(["streams", "--json", "--from-start", "--positions", str(positions)], live_settings)
    assert again.exit_code == 0 and json.loads(again.stdout)["outcomes"][live_settings.table("events")]["upgraded"] == 1


def test_failures_of_one_table_are_listed_with_of_table(dynamodb, live_settings):
    # given failures recorded for two tables (the --table option renames declared tables: it cannot filter)
    store = FailureStore(dynamodb, live_settings.failures_table)
    for table, key in ((live_settings.table("events"), "events#a"), (live_settings.table("participants"), "participants#a/b")):
        store.record(Failure(item_key=key, record_id="1", reasons=["bad"], table=table, event_name="INSERT",
                             observed_at_ms=None))
    # when listed with --of-table, then only that table's row is there
    listed = run(["failures", "--json", "--of-table", live_settings.table("participants")], live_settings)
    assert listed.exit_code == 0, listed.output
    assert [row["itemKey"] for row in json.loads(listed.stdout)] == ["participants#a/b"]


def test_the_runner_keeps_the_handlers_logs_off_the_console_unless_asked(dynamodb, live_settings, tmp_path, env):
    # given a legacy event the rule refuses (its handler logs a warning about it)
    events = live_settings.table("events")
    dynamodb.put_item(TableName=events, Item=to_typed({"eventId": "bad", "name": "B", "status": "??", "createdAt": Decimal(1_700_000_000_010)}))
    store = ("--backup-dir", str(tmp_path / "runs"), "--positions", str(tmp_path / "positions.json"))
    # when the runner drains the streams with the defaults, then again from the start with -v
    quiet = run_backfill("streams", *store, env={**env, "COLUMNS": "100"})
    loud = run_backfill("-v", "streams", *store, "--from-start", env={**env, "COLUMNS": "100"})
    # then by default no JSON log line is mixed into the output, and the summary says where the refusal is
    assert quiet.exit_code == 0 and loud.exit_code == 0, quiet.output + loud.output
    assert not [line for line in quiet.stderr.splitlines() if line.lstrip().startswith("{")], quiet.stderr
    assert "1 refused: `backfill failures` lists them (-v shows the handlers' logs)" in " ".join(quiet.stderr.split())
    # and -v shows the handlers' own log lines
    assert [line for line in loud.stderr.splitlines() if line.lstrip().startswith("{")], loud.stderr
