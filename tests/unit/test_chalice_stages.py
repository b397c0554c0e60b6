"""The Lambda's own environment per Chalice stage (.chalice/config.json)."""

import json
from pathlib import Path

import pytest

from chalicelib.config import MissingSetting, Settings

CONFIG = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_no_stage_points_the_lambda_at_an_endpoint_url(stage):
    # Inside a LocalStack Lambda container localhost is the container itself; LocalStack sets
    # AWS_ENDPOINT_URL for its Lambdas, and on AWS the default endpoints are the right ones.
    environment = {**CONFIG["environment_variables"], **CONFIG["stages"][stage].get("environment_variables", {})}
    assert not [name for name in environment if "ENDPOINT" in name], environment


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_every_stage_says_how_long_recorded_failures_are_kept(stage):
    # recorded failures hold item images: each stage decides their retention, nothing falls back silently
    environment = {**CONFIG["environment_variables"], **CONFIG["stages"][stage]["environment_variables"]}
    days = Settings.for_lambda(environment).failure_retention_days
    assert str(days) == environment["FAILURE_RETENTION_DAYS"] and 1 <= days <= 365


@pytest.mark.parametrize("text", ["0", "-3", "seven", "3.5", "3651"])
def test_a_retention_that_is_not_a_number_of_days_is_a_start_up_error(text):
    environment = {"EVENTS_TABLE": "e", "PARTICIPANTS_TABLE": "p", "FAILURES_TABLE": "f", "FAILURE_RETENTION_DAYS": text}
    with pytest.raises(MissingSetting, match=f"FAILURE_RETENTION_DAYS='{text}' is not a number of days from 1 to 3650"):
        Settings.for_lambda(environment)
