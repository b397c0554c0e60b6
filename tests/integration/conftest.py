"""Integration fixtures: a moto server over HTTP, started by the tests on a free loopback port.

Set ``LOCALSTACK_ENDPOINT`` (e.g. http://localhost:4566) to run the same tests against a
reachable LocalStack instead.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from backfill.local_endpoint import MotoEndpoint
from chalicelib.aws import RETRY_CONFIG
from chalicelib.config import Settings
from chalicelib.tables import create_tables

pytestmark = pytest.mark.integration


def _localstack_url() -> str | None:
    url = os.environ.get("LOCALSTACK_ENDPOINT")
    if not url:
        return None
    try:
        urllib.request.urlopen(f"{url}/_localstack/health", timeout=2).read()
    except OSError:
        return None
    return url


class LocalStackEndpoint:
    """A reachable LocalStack; reset drops every table (it has no moto-api reset)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=self.url)
        for name in client.list_tables()["TableNames"]:
            client.delete_table(TableName=name)
            client.get_waiter("table_not_exists").wait(TableName=name)


@pytest.fixture(scope="session")
def endpoint() -> Iterator[Any]:
    """The HTTP endpoint for the whole session: LocalStack when reachable, else a moto server."""
    localstack = _localstack_url()
    if localstack:
        yield LocalStackEndpoint(localstack)
        return
    with MotoEndpoint() as server:
        yield server


@pytest.fixture
def endpoint_url(endpoint: Any) -> Iterator[str]:
    endpoint.reset()
    yield endpoint.url


@pytest.fixture
def live_settings(settings: Settings, endpoint_url: str) -> Settings:
    return settings.with_overrides(endpoint_url=endpoint_url)


@pytest.fixture
def dynamodb(live_settings: Settings) -> Any:
    client = boto3.client(
        "dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
        config=RETRY_CONFIG,
    )
    create_tables(client, live_settings)
    return client


@pytest.fixture
def streams(live_settings: Settings) -> Any:
    return boto3.client(
        "dynamodbstreams", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url
    )
