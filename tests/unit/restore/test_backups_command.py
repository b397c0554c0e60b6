"""``backfill backups``: lists backups newest first with their checksum state."""

import json

from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.table.backup import create_backup
from chalicelib.items import to_typed


def test_lists_backups_and_flags_a_damaged_one(dynamodb, settings, tmp_path):
    dynamodb.put_item(TableName=settings.table("events"), Item=to_typed({"eventId": "e1", "status": "waiting"}))
    good = create_backup(dynamodb, settings.table("events"), tmp_path, region=settings.region, endpoint="x")
    bad = create_backup(dynamodb, settings.table("events"), tmp_path, region=settings.region, endpoint="x")
    bad.data_path.write_bytes(bad.data_path.read_bytes()[:-3])
    result = CliRunner().invoke(cli, ["backups", "--backup-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["run_id"]: row for row in json.loads(result.stdout)}
    assert rows[good.run_id]["ok"] is True and rows[good.run_id]["item_count"] == 1
    assert rows[bad.run_id]["ok"] is False and "damaged" in rows[bad.run_id]["problem"]
    # and the table view renders
    table_view = CliRunner().invoke(cli, ["backups", "--backup-dir", str(tmp_path)])
    assert table_view.exit_code == 0 and "damaged" in table_view.stderr


def test_no_backups(tmp_path):
    result = CliRunner().invoke(cli, ["backups", "--backup-dir", str(tmp_path / "none")])
    assert result.exit_code == 0 and "No backups" in result.stderr
