"""`backfill streams` and `backfill failures` against the moto server, as a user runs them."""

import json
from decimal import Decimal

from click.testing import CliRunner

from backfill.cli import cli
from chalicelib.events_store import EventStore
from chalicelib.items import to_typed


def run(args, live_settings):
    result = CliRunner().invoke(cli, [*args, "--endpoint-url", live_settings.endpoint_url, "--region", live_settings.region])
    return result


def test_streams_then_failures(dynamodb, live_settings, tmp_path):
    # given one legacy event, one garbled event and one participant
    events = live_settings.events_table
    dynamodb.put_item(TableName=events, Item=to_typed({"eventId": "ok", "name": "A", "status": "active", "createdAt": Decimal(1_700_000_000_010)}))
    dynamodb.put_item(TableName=events, Item=to_typed({"eventId": "bad", "name": "B", "status": "??", "createdAt": Decimal(1_700_000_000_010)}))
    dynamodb.put_item(TableName=live_settings.participants_table, Item=to_typed({"eventId": "ok", "participantId": "p"}))
    positions = str(tmp_path / "positions.json")
    # when the runner drains the streams
    drained = run(["streams", "--json", "--positions", positions], live_settings)
    # then it reports what it did and the event is upgraded and counted
    assert drained.exit_code == 0, drained.output
    stats = json.loads(drained.stdout)
    assert stats["outcomes"][events]["upgraded"] == 1 and stats["outcomes"][events]["refused"] == 1
    stored = EventStore(dynamodb, events).get("ok")
    assert stored["status"] == "live" and stored["participantCount"] == 1
    # and a second run from the saved positions has nothing to do
    again = run(["streams", "--json", "--positions", positions], live_settings)
    assert json.loads(again.stdout)["records"] == {}
    # and the refused event is listed with its reason
    listed = run(["failures", "--json"], live_settings)
    [row] = json.loads(listed.stdout)
    assert row["itemKey"] == "events#bad" and "??" in " ".join(row["reasons"])
    table = run(["failures"], live_settings)
    assert table.exit_code == 0 and "events#bad" in table.output
