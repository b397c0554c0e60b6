"""``--stage NAME`` on every command: the stage's tables (and region) come from the Chalice
config; options and their environment variables given explicitly win; a stage that is not
there is one Error line naming the stages that are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.migrate_helpers import seed

BAD_INPUT = 2
TABLE_VARIABLES = ("EVENTS_TABLE", "PARTICIPANTS_TABLE", "FAILURES_TABLE")


@pytest.fixture
def chalice_config(tmp_path: Path, live_settings) -> Path:
    """A Chalice config whose stage 'qa' names the test endpoint's tables."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"version": "2.0", "app_name": "app", "environment_variables": {}, "stages": {
        "qa": {"environment_variables": {"EVENTS_TABLE": live_settings.table("events"),
                                         "PARTICIPANTS_TABLE": live_settings.table("participants"),
                                         "FAILURES_TABLE": live_settings.failures_table}},
        "prod": {"environment_variables": {"EVENTS_TABLE": "prod-events"}},
    }}))
    return path


def test_a_stage_names_the_tables_a_command_uses(dynamodb, live_settings, backfill, chalice_config):
    # given legacy events in the tables stage 'qa' names, and no table options or variables
    seed(dynamodb, live_settings, events=6, participants=12, malformed=0)
    # when a dry run is pointed at the stage
    result = backfill("migrate", "--dry-run", "--json", "--stage", "qa", "--chalice-config", str(chalice_config),
                      drop=TABLE_VARIABLES)
    # then it planned the stage's events table
    assert result.exit_code == 0, result.output
    assert result.json()["target"]["events_table"] == live_settings.table("events")
    assert result.json()["would_upgrade"] == 6


def test_an_explicit_option_wins_over_the_stage(dynamodb, live_settings, backfill, chalice_config):
    # given stage 'prod' names a table that does not exist here
    seed(dynamodb, live_settings, events=3, participants=3, malformed=0)
    # when the events table is also given on the command line
    result = backfill("migrate", "--dry-run", "--json", "--stage", "prod", "--chalice-config", str(chalice_config),
                      "--table", f"events={live_settings.table('events')}", "--table",
                      f"participants={live_settings.table('participants')}", drop=TABLE_VARIABLES)
    # then the option is used
    assert result.exit_code == 0, result.output
    assert result.json()["target"]["events_table"] == live_settings.table("events")


@pytest.mark.parametrize("args", [["migrate", "--dry-run"], ["verify"], ["failures"], ["init-tables"],
                                  ["live", "status"]], ids=" ".join)
def test_a_misspelled_stage_names_the_stages_that_exist(backfill, chalice_config, args):
    # when a command is given a stage the config does not have
    result = backfill(*args, "--stage", "prd", "--chalice-config", str(chalice_config))
    # then one Error line names it, the file and the stages there are; exit 2
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert "'prd'" in error and str(chalice_config) in error and "prod, qa" in error


def test_live_commands_need_a_stage(backfill):
    # when live status is run without --stage; then one Error line says so, exit 2
    result = backfill("live", "status")
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT and "--stage" in error, result.output
