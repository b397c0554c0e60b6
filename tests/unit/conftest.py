"""Unit fixtures: in-process moto (no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.aws import RETRY_CONFIG, make_session
from chalicelib.config import Settings
from chalicelib.tables import create_tables


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        # moto drops boto3's default session on start, and every client made from a new default
        # session read botocore's models again (~20 of the unit tests' 80 CPU-s); a session from
        # make_session shares them
        boto3.DEFAULT_SESSION = make_session()
        yield


@pytest.fixture
def dynamodb(aws: None, settings: Settings) -> Any:
    client = boto3.client("dynamodb", region_name=settings.region, config=RETRY_CONFIG)
    create_tables(client, settings)
    return client


@pytest.fixture
def streams(aws: None, settings: Settings) -> Any:
    return boto3.client("dynamodbstreams", region_name=settings.region)
