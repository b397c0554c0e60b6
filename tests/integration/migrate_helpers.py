"""Helpers for the migrate integration tests: seeding, raw snapshots, independent counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backfill.migrate import MigrationOptions
from backfill.run.backup import encode_item
from backfill.table.target import Target
from chalicelib.config import Settings
from chalicelib.schema import CURRENT
from chalicelib.tables import create_tables
from localdev import legacy_data


def seed(dynamodb: Any, settings: Settings, *, events: int = 100, participants: int = 300, malformed: int = 6, seed: int = 11) -> legacy_data.LegacyDataSet:
    data = legacy_data.generate(events=events, participants=participants, malformed=malformed, seed=seed)
    legacy_data.seed_tables(dynamodb, settings.table("events"), settings.table("participants"), data)
    return data


def second_table_set(dynamodb: Any, settings: Settings, suffix: str) -> Settings:
    """Another events/participants pair on the same endpoint (to compare two runs side by side)."""
    other = settings.with_tables({"events": f"events-{suffix}", "participants": f"participants-{suffix}"}).with_overrides(
        failures_table=f"failures-{suffix}",
    )
    create_tables(dynamodb, other)
    return other


def raw_items(dynamodb: Any, table: str, key: tuple[str, ...] = ("eventId",)) -> dict[str, dict[str, Any]]:
    """Key -> the item exactly as the endpoint returns it (typed DynamoDB JSON); the key is the
    string value of ``key``'s attributes, joined by "|" when there are several."""
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            items["|".join(item[name]["S"] for name in key)] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def unowned_bytes(item: dict[str, Any]) -> bytes:
    """The attributes the migration does not own, serialized canonically (byte-for-byte compare)."""
    kept = {name: value for name, value in item.items() if name not in CURRENT.owned}
    return json.dumps(encode_item(kept), sort_keys=True, ensure_ascii=False).encode()


def fresh_count(dynamodb: Any, settings: Settings, event_id: str) -> int:
    """The event's participant rows, counted here with boto3's own paginator (a consistent COUNT
    query), not with the project's counter under test."""
    pages = dynamodb.get_paginator("query").paginate(
        TableName=settings.table("participants"), KeyConditionExpression="eventId = :e",
        ExpressionAttributeValues={":e": {"S": event_id}}, Select="COUNT", ConsistentRead=True)
    return sum(page["Count"] for page in pages)


def target_for(settings: Settings) -> Target:
    return Target(settings=settings)


def options(backup_dir: Path, **overrides: Any) -> MigrationOptions:
    return MigrationOptions(**{"backup_dir": backup_dir, "segments": 2, "workers": 4, **overrides})


def unseal(runs: Path, run_id: str) -> None:
    """Make run ``run_id`` in the local store ``runs`` look like a run from before sealing (no seal,
    a manifest that claims none): its files are then checked line by line only."""
    (runs / f"{run_id}.seal.json").unlink()
    manifest = runs / f"{run_id}.manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "sealed": False}))
