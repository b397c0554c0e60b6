"""The orders example's tests run on the project's integration fixtures (examples/conftest.py: each
test once per chosen endpoint, reset before every test), with the orders declaration active and its
tables created from it."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.aws import RETRY_CONFIG
from chalicelib.config import Settings
from chalicelib.schema import Schema, use_schema
from chalicelib.tables import create_tables
from examples.orders.schema import ORDERS


@pytest.fixture
def orders() -> Iterator[Schema]:
    """The orders declaration is the active one (for every thread) during the test."""
    with use_schema(ORDERS):
        yield ORDERS


@pytest.fixture
def dynamodb(orders: Schema, live_settings: Settings, streams: Any) -> Any:  # noqa: F811 (fixtures by name)
    """A client of the test endpoint, with the tables the orders declaration names."""
    client = boto3.client("dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
                          config=RETRY_CONFIG)
    create_tables(client, live_settings, streams)
    return client
