"""Every command facing an endpoint that is down, a table that is not there or in another region:
one ``Error:`` line naming the endpoint/table and the reason, exit 4, no traceback, no file left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli.conftest import UNREACHABLE, Backfill, files_under, target_env
from tests.integration.migrate_helpers import seed
from tests.support.cli import cli_env, finish, start_backfill

TARGET_ERROR = 4


def a_backup(backfill: Backfill, workdir: Path) -> Path:
    """A real backup (and ledger) from a migrate run at the test endpoint."""
    result = backfill("migrate", "--yes", "--json", "--backup-dir", str(workdir / "runs"))
    assert result.exit_code in (0, 1), result.output
    return Path(json.loads(result.stdout)["backup_file"])


def test_every_command_names_an_endpoint_that_refuses_connections(dynamodb, live_settings, backfill, workdir):
    # given a backup taken earlier, and an endpoint where nothing listens
    seed(dynamodb, live_settings, events=5, participants=10, malformed=0)
    backup = a_backup(backfill, workdir)
    before = files_under(workdir)
    env = cli_env({**target_env(live_settings), "AWS_ENDPOINT_URL": UNREACHABLE})
    commands = {
        "migrate": ["migrate", "--yes", "--backup-dir", str(workdir / "new")],
        "dry run": ["migrate", "--dry-run"],
        "verify": ["verify", "--backup-dir", str(backup.parent)],
        "restore": ["restore", str(backup), "--yes"],
        "init-tables": ["init-tables"],
        "seed": ["seed", "--events", "3", "--participants", "3"],
        "streams": ["streams", "--positions", str(workdir / "positions.json")],
        "failures": ["failures"],
        "backups in S3": ["backups", "--backup-dir", "s3://runs/prefix"],
    }
    # when each command is run against it (in parallel: botocore retries a refused connection)
    running = {name: start_backfill(*args, cwd=workdir, env=env) for name, args in commands.items()}
    results = {name: finish(process) for name, process in running.items()}
    # then each names the endpoint and the reason in one line and exits 4
    for name, result in results.items():
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert result.exit_code == TARGET_ERROR, (name, result.output)
        assert len(errors) == 1, (name, result.stderr)
        assert "127.0.0.1:9" in errors[0], (name, errors)
        assert "Connection refused" in errors[0] or "Could not connect" in errors[0], (name, errors)
    # and nothing was written locally
    assert files_under(workdir) == before


@pytest.mark.parametrize("args", [
    ["migrate", "--yes"],
    ["migrate", "--dry-run"],
    ["verify", "--no-snapshot"],
    ["seed", "--events", "3", "--participants", "3"],
    ["streams"],
    ["failures"],
], ids=" ".join)
def test_a_missing_table_is_named_with_endpoint_and_region(dynamodb, live_settings, backfill, workdir, args):
    # given a table name that does not exist at the endpoint
    missing = {"failures": "FAILURES_TABLE"}.get(args[0], "EVENTS_TABLE")
    # when the command runs against it
    result = backfill(*args, env={missing: "no-such-table"})
    # then it names the table, the endpoint and the region, exits 4 and leaves no file behind
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == TARGET_ERROR, result.output
    assert "no-such-table" in error and live_settings.endpoint_url in error and live_settings.region in error
    assert files_under(workdir) in ([], ["backups"])
    assert not list(workdir.rglob("*.tmp"))


def test_a_table_in_another_region_is_not_found_in_the_one_given(dynamodb, live_settings, backfill, workdir):
    # given seeded tables in the test region
    seed(dynamodb, live_settings, events=5, participants=10, malformed=0)
    # when migrate is pointed at another region
    result = backfill("migrate", "--yes", "--region", "eu-west-1")
    # then it says the table is not in that region, exit 4, and no partial backup remains
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == TARGET_ERROR, result.output
    assert live_settings.table("events") in error and "eu-west-1" in error
    assert not list(workdir.rglob("*.tmp")) and not list(workdir.rglob("*.jsonl.gz"))


def test_restore_to_a_table_deleted_since_the_backup(dynamodb, live_settings, backfill, workdir):
    # given a migrated table whose backup exists, then the table is deleted
    seed(dynamodb, live_settings, events=5, participants=10, malformed=0)
    backup = a_backup(backfill, workdir)
    dynamodb.delete_table(TableName=live_settings.table("events"))
    # when the backup is restored
    result = backfill("restore", str(backup), "--yes")
    # then the missing table is named, exit 4
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == TARGET_ERROR, result.output
    assert live_settings.table("events") in error and "does not exist" in error


@pytest.mark.parametrize("args", [["migrate", "--dry-run"], ["verify", "--no-snapshot"]], ids=" ".join)
def test_a_missing_declared_table_names_the_declaration_in_use(dynamodb, live_settings, backfill, args):
    # given another team's endpoint, where the events declaration's table does not exist
    # when migrate or verify runs without --schema (the default declaration)
    result = backfill(*args, env={"EVENTS_TABLE": "no-such-table"})
    # then the error names the declaration in use, and the hint how to choose another
    [error] = result.errors()
    [hint] = [line for line in result.stderr.splitlines() if line.startswith("Hint:")]
    assert result.exit_code == TARGET_ERROR, result.output
    assert "no-such-table" in error and "(declaration chalicelib.schema.current:CURRENT)" in error
    assert "--schema MODULE:NAME" in hint
