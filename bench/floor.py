"""The floor: the least client work any migration of this data must do, written on the boto3
client alone (no project code), so it is an independent limit to compare ``backfill migrate``
with.

One scan of the participants table (``eventId`` only) to count, one scan of the events table, and
one conditional UpdateItem per event that needs one, from a pool of writers. The request has the
same shape as the project's: SET of the owned fields that change, under a condition that the item
exists and that every owned field and ``createdAt`` is still as read (absent ones still absent).
The upgrade itself is the minimal v1 -> v2 mapping done on the typed JSON directly; no backup,
ledger, checkpoint, progress, report or deserialization of whole items.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Same client settings as the project's (adaptive retries, a connection per writer).
CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=64)
STATUS = {"waiting": "setup", "active": "live", "completed": "completed"}
GUARDED = ("completedAt", "countVersion", "createdAt", "isTemplate", "lastModified", "participantCount",
           "schemaVersion", "startedAt", "status", "visibility")


def _changes(item: dict[str, Any], count: int) -> dict[str, Any] | None:
    """Owned fields to SET on a legacy item; None when it is current or not upgradable."""
    if item.get("schemaVersion") == {"N": "2"}:
        return None
    status = item.get("status", {}).get("S")
    created = item.get("createdAt", {}).get("N")
    if status not in STATUS or created is None or not created.isdigit():
        return None
    new_status = STATUS[status]
    wanted = {"status": {"S": new_status}, "visibility": item.get("visibility", {"S": "private"}),
              "isTemplate": item.get("isTemplate", {"BOOL": False}), "lastModified": {"N": created},
              "participantCount": {"N": str(count)}, "countVersion": {"N": "1"}, "schemaVersion": {"N": "2"}}
    if new_status in ("live", "completed"):
        wanted["startedAt"] = {"N": created}
    if new_status == "completed":
        wanted["completedAt"] = {"N": created}
    return {name: value for name, value in wanted.items() if item.get(name) != value}


def _request(table: str, item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    names, values = {"#k": "eventId"}, {}
    condition = ["attribute_exists(#k)"]
    for i, name in enumerate(GUARDED):
        names[f"#g{i}"] = name
        if name in item:
            values[f":g{i}"] = item[name]
            condition.append(f"#g{i} = :g{i}")
        else:
            condition.append(f"attribute_not_exists(#g{i})")
    sets = []
    for i, (name, value) in enumerate(sorted(changes.items())):
        names[f"#s{i}"], values[f":s{i}"] = name, value
        sets.append(f"#s{i} = :s{i}")
    return {"TableName": table, "Key": {"eventId": item["eventId"]}, "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": " AND ".join(condition), "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values}


def _scan(dynamodb: Any, **kwargs: Any) -> Any:
    for page in dynamodb.get_paginator("scan").paginate(**kwargs):
        yield from page["Items"]


def run_floor(session: boto3.session.Session, endpoint_url: str | None, events_table: str,
              participants_table: str, *, threads: int = 8) -> tuple[int, dict[str, Any]]:
    """Migrate every event the minimal way; returns (events examined, notes)."""
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url, config=CONFIG)
    counts = Counter(row["eventId"]["S"] for row in _scan(
        dynamodb, TableName=participants_table, ProjectionExpression="#e", ExpressionAttributeNames={"#e": "eventId"}))
    results: Counter[str] = Counter()

    def migrate(item: dict[str, Any]) -> str:
        changes = _changes(item, counts.get(item["eventId"]["S"], 0))
        if not changes:
            return "skipped"
        try:
            dynamodb.update_item(**_request(events_table, item, changes))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return "condition failed"
        return "upgraded"

    with ThreadPoolExecutor(threads) as pool:
        for outcome in pool.map(migrate, _scan(dynamodb, TableName=events_table)):
            results[outcome] += 1
    return sum(results.values()), {"results": dict(results), "threads": threads, "migrated": results["upgraded"]}
