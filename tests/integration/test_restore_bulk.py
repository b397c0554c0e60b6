"""``backfill restore FILE --to-table NAME`` against a real endpoint over HTTP: every type comes
back byte-exact, unprocessed items are resent until none is left, unusable targets are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.restore.bulk import BulkRestoreError, bulk_restore
from backfill.run.backup import encode_item
from backfill.table.backup import create_backup
from localdev import legacy_data

# Hand-written typed JSON (as DynamoDB's API documents it): every type, edge-case numbers,
# binary sets (which a widely used dump tool loses), deep nesting, non-ASCII text.
EVERY_TYPE: dict[str, Any] = {
    "eventId": {"S": "every-type"},
    "text": {"S": "ライブ ✓ \u00e9"},
    "big": {"N": "12345678901234567890123456789012345678"},
    "tiny": {"N": "-0.000000000000000000000000000000000001"},
    "exp": {"N": "1E+125"},
    "bin": {"B": b"\x00\xff\x10bytes"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1.5", "99999999999999999999999999999999999999"]},
    "bs": {"BS": [b"\x01", b"\x02\x03", b"\xff" * 40]},
    "m": {"M": {"nested": {"M": {"deep": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}, {"BOOL": True},
                                                {"BS": [b"z"]}]}}}}},
    "l": {"L": [{"BOOL": False}, {"NULL": True}, {"M": {"k": {"S": "v"}}}, {"L": [{"S": "inner"}]}]},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "emptyMap": {"M": {}},
    "emptyList": {"L": []},
}


def scan_all(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return list(dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True).search("Items"))


def canonical(items: list[dict[str, Any]]) -> list[bytes]:
    """Items as sorted canonical JSON bytes (binary as base64): a byte-for-byte comparison."""
    return sorted(json.dumps(encode_item(item), sort_keys=True, ensure_ascii=False).encode() for item in items)


@pytest.fixture
def events_backup(dynamodb, live_settings, tmp_path):
    data = legacy_data.generate(events=180, participants=300, malformed=4, seed=5)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    dynamodb.put_item(TableName=live_settings.table("events"), Item=EVERY_TYPE)
    return create_backup(dynamodb, live_settings.table("events"), tmp_path, region=live_settings.region,
                         endpoint=live_settings.endpoint_url, total_segments=3)


def test_every_type_round_trips_byte_exact_into_a_created_table(dynamodb, live_settings, events_backup):
    # given a backup of a table holding every DynamoDB type
    source = scan_all(dynamodb, live_settings.table("events"))
    # when it is bulk-restored into a table created from the backup's key schema
    result = bulk_restore(dynamodb, events_backup, "events-copy", create=True, workers=4)
    # then the copy holds exactly the source's items, byte for byte, and nothing was left out
    assert result.ok and result.created and result.items == len(source) == 181
    assert canonical(scan_all(dynamodb, "events-copy")) == canonical(source)
    assert result.requests >= -(-181 // 25)
    key_schema = dynamodb.describe_table(TableName="events-copy")["Table"]["KeySchema"]
    assert key_schema == [{"AttributeName": "eventId", "KeyType": "HASH"}]


def test_a_composite_key_table_is_recreated_too(dynamodb, live_settings, tmp_path):
    # given a backup of the participants table (hash + range key)
    data = legacy_data.generate(events=20, participants=140, seed=3)
    legacy_data.seed_tables(dynamodb, live_settings.table("events"), live_settings.table("participants"), data)
    backup = create_backup(dynamodb, live_settings.table("participants"), tmp_path, region=live_settings.region,
                           endpoint=live_settings.endpoint_url)
    # when it is restored into a new table
    result = bulk_restore(dynamodb, backup, "participants-copy", create=True)
    # then the new table has the same keys and items
    assert result.ok and result.items == 140
    described = dynamodb.describe_table(TableName="participants-copy")["Table"]["KeySchema"]
    assert [(k["AttributeName"], k["KeyType"]) for k in described] == [("eventId", "HASH"), ("participantId", "RANGE")]
    assert canonical(scan_all(dynamodb, "participants-copy")) == canonical(scan_all(dynamodb, live_settings.table("participants")))


class LeavesItemsUnprocessed:
    """The real client, except that its first ``rounds`` BatchWriteItem calls write only the
    first half of the request and hand the rest back as UnprocessedItems (as a throttled table does)."""

    def __init__(self, client: Any, rounds: int) -> None:
        self._client = client
        self.rounds = rounds
        self.left_back = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:  # noqa: N803
        if self.rounds <= 0:
            return self._client.batch_write_item(RequestItems=RequestItems)
        self.rounds -= 1
        (table, requests), = RequestItems.items()
        half = len(requests) // 2
        response = self._client.batch_write_item(RequestItems={table: requests[:half]}) if half else {}
        self.left_back += len(requests) - half
        return {**response, "UnprocessedItems": {table: requests[half:]}}


def test_unprocessed_items_are_resent_until_none_is_left(dynamodb, live_settings, events_backup):
    # given a table that leaves half of each request unprocessed, 20 times
    flaky = LeavesItemsUnprocessed(dynamodb, rounds=20)
    # when the backup is bulk-restored through it
    result = bulk_restore(flaky, events_backup, "events-copy", create=True, workers=2)
    # then every item handed back was resent, and every item is in the table
    assert flaky.left_back > 0 and result.unprocessed_resent == flaky.left_back
    assert result.ok and result.items == 181
    assert canonical(scan_all(dynamodb, "events-copy")) == canonical(scan_all(dynamodb, live_settings.table("events")))


def test_a_non_empty_or_missing_table_is_refused_before_any_write(dynamodb, live_settings, events_backup):
    # given an existing, non-empty table and a backup
    # when bulk restore targets it, or a missing table without --create-table
    with pytest.raises(BulkRestoreError, match="is not empty"):
        bulk_restore(dynamodb, events_backup, live_settings.table("events"))
    with pytest.raises(BulkRestoreError, match="does not exist"):
        bulk_restore(dynamodb, events_backup, "no-such-table")
    # then nothing was created
    assert "no-such-table" not in dynamodb.list_tables()["TableNames"]


def test_cli_to_table(dynamodb, live_settings, events_backup):
    url = live_settings.endpoint_url
    # when the CLI restores into a missing table without --create-table: refused, exit 2
    refused = CliRunner().invoke(cli, ["restore", str(events_backup.manifest_path), "--to-table", "copy",
                                       "--endpoint-url", url, "--yes"])
    assert refused.exit_code == 2, refused.output
    assert "does not exist" in refused.output
    # when it is asked to create the table: every item written, exit 0, JSON report on stdout
    done = CliRunner().invoke(cli, ["restore", str(events_backup.data_path), "--to-table", "copy", "--create-table",
                                    "--endpoint-url", url, "--yes", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output[done.output.index("{\n"):])
    assert report["items_written"] == 181 and report["ok"] and report["table_created"]
    # and in-place options do not mix with the bulk mode
    mixed = CliRunner().invoke(cli, ["restore", str(events_backup.data_path), "--to-table", "x", "--force",
                                     "--endpoint-url", url, "--yes"])
    assert mixed.exit_code == 2
