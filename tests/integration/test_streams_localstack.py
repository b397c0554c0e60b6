"""The live path against LocalStack (docker compose up): skipped when it is not reachable."""

import os
import urllib.request
import uuid
from decimal import Decimal

import boto3
import pytest

from backfill.stream_runner import StreamRunner
from backfill.target import Target
from chalicelib.config import Settings
from chalicelib.counts import ParticipantCounter
from chalicelib.events_store import EventStore
from chalicelib.items import to_typed
from chalicelib.schema import needs_upgrade
from chalicelib.tables import create_tables

pytestmark = pytest.mark.localstack

LOCALSTACK = os.environ.get("LOCALSTACK_ENDPOINT", "http://localhost:4566")


def _reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/_localstack/health", timeout=2).read()
    except OSError:
        return False
    return True


@pytest.fixture
def localstack_settings():
    if not _reachable(LOCALSTACK):
        pytest.skip(f"LocalStack is not reachable at {LOCALSTACK} (start it with `docker compose up -d`, or set LOCALSTACK_ENDPOINT)")
    run = uuid.uuid4().hex[:8]
    settings = Settings(events_table=f"events-{run}", participants_table=f"participants-{run}",
                        failures_table=f"failures-{run}", region="us-east-1", endpoint_url=LOCALSTACK)
    dynamodb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=LOCALSTACK)
    create_tables(dynamodb, settings)
    yield settings
    for table in (settings.events_table, settings.participants_table, settings.failures_table):
        dynamodb.delete_table(TableName=table)


def test_runner_upgrades_and_counts_on_localstack(localstack_settings):
    target = Target(settings=localstack_settings)
    for i in range(3):
        target.dynamodb.put_item(TableName=localstack_settings.events_table, Item=to_typed(
            {"eventId": f"e{i}", "name": "x", "status": "active", "createdAt": Decimal(1_700_000_000_000 + i)}))
        target.dynamodb.put_item(TableName=localstack_settings.participants_table, Item=to_typed(
            {"eventId": f"e{i}", "participantId": "p"}))
    StreamRunner(target).drain()
    store = EventStore(target.dynamodb, localstack_settings.events_table)
    counter = ParticipantCounter(target.dynamodb, localstack_settings.participants_table)
    for i in range(3):
        item = store.get(f"e{i}")
        assert not needs_upgrade(item) and item["participantCount"] == counter.count(f"e{i}") == 1
