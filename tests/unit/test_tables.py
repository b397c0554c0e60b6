"""Table creation waits like LocalStack needs: tables ACTIVE, then streams ENABLED."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import WaiterError
from botocore.stub import Stubber

from chalicelib.tables import wait_for_stream

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/2026-01-01T00:00:00.000"


def _describe(status: str) -> dict[str, Any]:
    return {"StreamDescription": {"StreamArn": ARN, "StreamStatus": status, "Shards": []}}


def test_waits_while_the_stream_is_enabling() -> None:
    # given a stream that is ENABLING at first (as LocalStack reports it right after CreateTable)
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    with Stubber(streams) as stub:
        stub.add_response("describe_stream", _describe("ENABLING"), {"StreamArn": ARN})
        stub.add_response("describe_stream", _describe("ENABLED"), {"StreamArn": ARN})
        # when we wait for it, then it returns only once the stream is ENABLED
        wait_for_stream(streams, ARN)
        stub.assert_no_pending_responses()


def test_a_disabled_stream_is_an_error_not_a_wait() -> None:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    with Stubber(streams) as stub:
        stub.add_response("describe_stream", _describe("DISABLED"), {"StreamArn": ARN})
        with pytest.raises(WaiterError, match="StreamEnabled"):
            wait_for_stream(streams, ARN)
