"""`backfill stream-arns`: the stage's stream ARNs looked up and written for chalice."""

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from backfill.cli.main import cli
from chalicelib.tables import stream_arn

CONFIG = Path(__file__).resolve().parents[3] / ".chalice" / "config.json"


def test_write_puts_the_current_arns_into_the_stage(dynamodb, settings, tmp_path):
    config = tmp_path / "config.json"
    shutil.copy(CONFIG, config)
    result = CliRunner().invoke(cli, ["stream-arns", "--stage", "prod", "--chalice-config", str(config), "--write", "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(config.read_text())
    variables = written["stages"]["prod"]["environment_variables"]
    assert variables["EVENTS_STREAM_ARN"] == stream_arn(dynamodb, "events")
    assert variables["PARTICIPANTS_STREAM_ARN"] == stream_arn(dynamodb, "participants")
    assert written["stages"]["dev"] == json.loads(CONFIG.read_text())["stages"]["dev"]


def test_write_changes_only_the_two_values_and_keeps_the_formatting(dynamodb, tmp_path):
    # given the project's hand-formatted config
    config = tmp_path / "config.json"
    shutil.copy(CONFIG, config)
    before = CONFIG.read_text().splitlines(keepends=True)
    # when the prod ARNs are written
    result = CliRunner().invoke(cli, ["stream-arns", "--stage", "prod", "--chalice-config", str(config), "--write"])
    assert result.exit_code == 0, result.output
    after = config.read_text().splitlines(keepends=True)
    # then exactly the two ARN lines differ, and the file still ends as it did
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert [old.split(":")[0].strip() for old, _ in changed] == ['"EVENTS_STREAM_ARN"', '"PARTICIPANTS_STREAM_ARN"']
    assert all(new.startswith(old[: old.index('": "') + 4]) for old, new in changed)
    assert after[-1] == before[-1]


def test_missing_tables_are_a_clear_error(dynamodb, tmp_path):
    config = tmp_path / "config.json"
    shutil.copy(CONFIG, config)
    result = CliRunner().invoke(cli, ["stream-arns", "--stage", "dev", "--chalice-config", str(config)])
    assert result.exit_code != 0 and "dev-events" in result.output
    assert config.read_text() == CONFIG.read_text()


def test_write_names_the_declarations_schema_version_for_the_deployed_functions(dynamodb, tmp_path):
    # given the project's config (version 2, the events declaration)
    config = tmp_path / "config.json"
    shutil.copy(CONFIG, config)
    # when the ARNs are written with the expand phase of the rename active (version 3)
    result = CliRunner().invoke(cli, ["--schema", "examples.rename.schema:EXPAND", "stream-arns", "--stage", "prod",
                                      "--chalice-config", str(config), "--write", "--json"])
    # then the stage's environment names version 3, and only that stage's
    assert result.exit_code == 0, result.output
    written = json.loads(config.read_text())
    assert written["stages"]["prod"]["environment_variables"]["DYNAMO_EVOLVE_SCHEMA_VERSION"] == "3"
    assert written["stages"]["dev"]["environment_variables"]["DYNAMO_EVOLVE_SCHEMA_VERSION"] == "2"
