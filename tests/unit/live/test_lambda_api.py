"""backfill.live.lambda_api.set_enabled against Lambda's documented responses (botocore Stubber):
a mapping passes through Disabling/Enabling before it is Disabled/Enabled."""

import boto3
import pytest
from botocore.stub import Stubber

from backfill.live.lambda_api import LivePathError, set_enabled
from backfill.live.model import StreamMapping

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:dynamo-evolve-prod-events_stream"
UUID = "1b7e4c2a-0d3f-4e51-9a6b-2f8c9d0e1a23"
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-01-01T00:00:00.000"


def response(state: str) -> dict:
    return {"UUID": UUID, "FunctionArn": FUNCTION, "EventSourceArn": STREAM, "State": state, "BatchSize": 100}


@pytest.fixture
def lam():
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_pause_waits_until_lambda_reports_disabled(lam):
    client, stubber = lam
    stubber.add_response("update_event_source_mapping", response("Disabling"), {"UUID": UUID, "Enabled": False})
    for state in ("Disabling", "Disabling", "Disabled"):
        stubber.add_response("get_event_source_mapping", response(state), {"UUID": UUID})
    sleeps = []
    [final] = set_enabled(client, [StreamMapping.from_api(response("Enabled"))], False, sleep=sleeps.append, poll_s=2)
    assert final.state == "Disabled" and sleeps == [2, 2]


def test_a_mapping_already_in_the_state_is_not_updated(lam):
    client, stubber = lam
    stubber.add_response("get_event_source_mapping", response("Enabled"), {"UUID": UUID})
    [final] = set_enabled(client, [StreamMapping.from_api(response("Enabled"))], True, sleep=lambda _s: None)
    assert final.state == "Enabled"


def test_a_mapping_that_does_not_get_there_in_time_is_named(lam):
    client, stubber = lam
    stubber.add_response("update_event_source_mapping", response("Enabling"), {"UUID": UUID, "Enabled": True})
    stubber.add_response("get_event_source_mapping", response("Enabling"), {"UUID": UUID})
    with pytest.raises(LivePathError, match="mapping 1b7e4c2a-0d3f-4e51-9a6b-2f8c9d0e1a23 of dynamo-evolve-prod-events_stream is Enabling, not Enabled"):
        set_enabled(client, [StreamMapping.from_api(response("Disabled"))], True, timeout_s=-1, sleep=lambda _s: None)
