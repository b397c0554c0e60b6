"""The Lambda's own environment per Chalice stage (.chalice/config.json)."""

import json
from pathlib import Path

import pytest

CONFIG = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())


@pytest.mark.parametrize("stage", sorted(CONFIG["stages"]))
def test_no_stage_points_the_lambda_at_an_endpoint_url(stage):
    # Inside a LocalStack Lambda container localhost is the container itself; LocalStack sets
    # AWS_ENDPOINT_URL for its Lambdas, and on AWS the default endpoints are the right ones.
    environment = {**CONFIG["environment_variables"], **CONFIG["stages"][stage].get("environment_variables", {})}
    assert not [name for name in environment if "ENDPOINT" in name], environment
