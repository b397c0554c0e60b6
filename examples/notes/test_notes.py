"""A declaration with no aggregate (``examples/notes/schema.py``) end to end, every command in a
real process as an operator runs it: init-tables, the dry run, migrate, verify, the live path
through the local stream runner, and restore. Inputs are typed DynamoDB JSON written out here;
every verdict is a raw scan of the table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.aws import RETRY_CONFIG
from chalicelib.config import Settings
from tests.support.cli import REPO, CliRun, cli_env, run_backfill

SCHEMA = "--schema=examples.notes.schema:NOTES"
CREATED = "1767225000000"

# Notes as the old app left them: legacy states, no pinned, only the old name title.
LEGACY: list[dict[str, Any]] = [
    {"notebookId": {"S": "b-1"}, "noteId": {"S": "n-1"}, "createdAt": {"N": CREATED}, "state": {"S": "active"},
     "title": {"S": "groceries"}},
    {"notebookId": {"S": "b-1"}, "noteId": {"S": "n-2"}, "createdAt": {"N": CREATED}, "state": {"S": "old"},
     "colour": {"S": "red"}},
    {"notebookId": {"S": "b-2"}, "noteId": {"S": "n-1"}, "createdAt": {"N": CREATED}, "state": {"S": "open"},
     "title": {"S": "ideas"}, "pinned": {"BOOL": True}},
]


def name(item: dict[str, Any]) -> str:
    return json.dumps([item["notebookId"]["S"], item["noteId"]["S"]])


def scan(client: Any) -> dict[str, dict[str, Any]]:
    return {name(i): i for i in client.scan(TableName="notes", ConsistentRead=True)["Items"]}


@pytest.fixture
def notes(live_settings: Settings, tmp_path: Path) -> Any:
    """The notes table made by ``init-tables`` from the declaration, holding the legacy notes."""
    created = backfill(live_settings, tmp_path, "init-tables")
    assert created.exit_code == 0, created.output
    client = boto3.client("dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
                          config=RETRY_CONFIG)
    for item in LEGACY:
        client.put_item(TableName="notes", Item=item)
    return client


def backfill(live_settings: Settings, tmp_path: Path, *args: str) -> CliRun:
    env = {"AWS_REGION": live_settings.region, "AWS_ENDPOINT_URL": str(live_settings.endpoint_url)}
    return run_backfill(SCHEMA, *args, cwd=tmp_path, env=cli_env(env))


def test_every_command_runs_on_a_declaration_without_an_aggregate(notes, live_settings, tmp_path):
    before = scan(notes)
    # when the operator runs the dry run, then migrate
    dry = backfill(live_settings, tmp_path, "migrate", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert scan(notes) == before  # the dry run wrote nothing
    migrated = backfill(live_settings, tmp_path, "migrate", "--yes", "--json")
    assert migrated.exit_code == 0, migrated.output
    # (no workflow: no statuses counted; no aggregate: no source table named)
    report = migrated.json()
    assert report["transitions"] == {} and report["status_distribution"] == {} and set(report["target"]) == {
        "endpoint", "region", "notes_table", "notes"}
    # then every note is in the declared shape, read back raw
    after = scan(notes)
    assert {k: (v["state"]["S"], v["pinned"]["BOOL"], v["schemaVersion"]["N"]) for k, v in after.items()} == {
        '["b-1", "n-1"]': ("open", False, "2"), '["b-1", "n-2"]': ("archived", False, "2"),
        '["b-2", "n-1"]': ("open", True, "2")}
    assert after['["b-1", "n-1"]']["heading"] == {"S": "groceries"} and "heading" not in after['["b-1", "n-2"]']
    assert after['["b-1", "n-2"]']["colour"] == {"S": "red"}  # not the declaration's: untouched
    # and verify agrees
    verified = backfill(live_settings, tmp_path, "verify", "--json")
    assert verified.exit_code == 0, verified.output
    # when an old writer saves a note in the old shape, and the live path runs through the local stream runner
    old_put = {"notebookId": {"S": "b-3"}, "noteId": {"S": "n-9"}, "createdAt": {"N": CREATED},
               "state": {"S": "active"}, "title": {"S": "late"}}
    notes.put_item(TableName="notes", Item=old_put)
    live = backfill(live_settings, tmp_path, "streams", "--from-start", "--json")
    assert live.exit_code == 0, live.output
    # then the note written after the migration is upgraded too, and verify still agrees
    late = scan(notes)['["b-3", "n-9"]']
    assert (late["state"], late["pinned"], late["heading"], late["schemaVersion"]) == (
        {"S": "open"}, {"BOOL": False}, {"S": "late"}, {"N": "2"})
    assert backfill(live_settings, tmp_path, "verify").exit_code == 0
    # when the migration is restored from its backup
    restored = backfill(live_settings, tmp_path, "restore", migrated.json()["backup_file"], "--yes")
    assert restored.exit_code == 0, restored.output
    # then the notes the migration changed are as the old app left them (the late one is newer data: kept)
    now = scan(notes)
    assert {k: now[k] for k in before} == before


def test_a_run_split_over_processes_needs_no_aggregate_either(notes, live_settings, tmp_path):
    migrated = backfill(live_settings, tmp_path, "migrate", "--yes", "--processes", "2", "--json")
    assert migrated.exit_code == 0, migrated.output
    assert migrated.json()["migrated"] == len(LEGACY)
    assert {v["schemaVersion"]["N"] for v in scan(notes).values()} == {"2"}


LIST_SOURCES = "import json, app; print(json.dumps({s.name: s.stream_arn for s in app.app.event_sources}))"
APP_ENV = {"DYNAMO_EVOLVE_SCHEMA": "examples.notes.schema:NOTES", "NOTES_TABLE": "dev-notes",
           "FAILURES_TABLE": "dev-failures",
           "NOTES_STREAM_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/dev-notes/stream/1"}


def test_the_chalice_app_registers_the_one_table_of_a_declaration_without_an_aggregate():
    # when Chalice imports app.py (as it does to package or deploy) with the notes declaration
    done = subprocess.run([sys.executable, "-c", LIST_SOURCES], cwd=REPO, env=cli_env(APP_ENV),
                          capture_output=True, text=True, timeout=60, check=False)
    # then it registers one handler, for the notes table's stream
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"notes_stream": APP_ENV["NOTES_STREAM_ARN"]}
