"""Bulk restore: a backup into a new or empty table with BatchWriteItem (``restore FILE --to-table``).

Unlike the in-place restore there is nothing live to compare with or protect, so every item is
written whole, 25 to a request, by a pool of senders. Values are the backup's typed JSON as read
(numbers stay the strings DynamoDB returned, binary the exact bytes, sets and nested maps as they
were), never converted through Python values. Items the service leaves unprocessed are sent again
with exponential backoff and jitter until none is left; a table that accepts nothing for
``STALL_LIMIT`` rounds in a row stops the run with the keys not written, never drops them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from backfill.run.backup import Backup, iter_backup_items

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import (
        KeySchemaElementTypeDef,
        WriteRequestOutputTypeDef,
        WriteRequestTypeDef,
    )

BATCH_SIZE = 25  # BatchWriteItem's limit
# Senders: 4 saturate a local endpoint (more only contend there); on AWS more pay off.
DEFAULT_WORKERS = 4
STALL_LIMIT = 12  # rounds in a row without any item accepted before giving up on a batch
BASE_DELAY_S = 0.05
MAX_DELAY_S = 5.0


class BulkRestoreError(Exception):
    """The target table cannot take a bulk restore, or items could not be written (named)."""


@dataclass
class BulkResult:
    backup: str
    table: str
    created: bool
    items: int = 0
    requests: int = 0
    unprocessed_resent: int = 0  # items the service left unprocessed and that were sent again
    seconds: float = 0.0
    unwritten: list[dict[str, Any]] = field(default_factory=list)  # keys given up on (stalled)

    @property
    def ok(self) -> bool:
        return not self.unwritten

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "backup": self.backup,
            "table": self.table,
            "table_created": self.created,
            "items_written": self.items,
            "batch_requests": self.requests,
            "unprocessed_items_resent": self.unprocessed_resent,
            "seconds": round(self.seconds, 3),
            "items_per_s": round(self.items / self.seconds, 1) if self.seconds > 0 else None,
            "unwritten_keys": self.unwritten,
        }


# --- the target table --------------------------------------------------------------------------

def table_definition(backup: Backup, table: str) -> dict[str, Any]:
    """CreateTable arguments from the key schema the backup's manifest recorded."""
    schema, attributes = backup.manifest.get("key_schema"), backup.manifest.get("key_attributes")
    if not schema or not attributes:
        raise BulkRestoreError(
            f"backup {backup.run_id} records no key schema (taken by an older version): "
            f"create table {table!r} first, then restore into it without --create-table"
        )
    return {"TableName": table, "KeySchema": schema, "AttributeDefinitions": attributes,
            "BillingMode": "PAY_PER_REQUEST"}


def prepare_table(dynamodb: DynamoDBClient, backup: Backup, table: str, *, create: bool,
                  after_create: Callable[[], None] | None = None) -> bool:
    """Make sure ``table`` exists and is empty (creating it when asked; then ``after_create()``
    runs before any item is written). Returns True if created."""
    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        if not create:
            raise BulkRestoreError(f"table {table!r} does not exist (add --create-table to create it "
                                   f"from the backup's key schema)") from None
        dynamodb.create_table(**table_definition(backup, table))
        dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
        if after_create is not None:
            after_create()
        return True
    recorded = backup.manifest.get("key_schema")
    if recorded and _keys(description["KeySchema"]) != _keys(recorded):
        raise BulkRestoreError(f"table {table!r} has key schema {_keys(description['KeySchema'])}, "
                               f"the backup's is {_keys(recorded)}")
    first = dynamodb.scan(TableName=table, Limit=1, Select="COUNT")
    if first.get("Count", 0) or "LastEvaluatedKey" in first:
        raise BulkRestoreError(f"table {table!r} is not empty: a bulk restore writes whole items over "
                               "whatever is there; restore into a new or empty table")
    return False


def _keys(schema: Sequence[KeySchemaElementTypeDef]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


# --- the writes --------------------------------------------------------------------------------

def write_batch(
    dynamodb: DynamoDBClient,
    table: str,
    items: list[dict[str, Any]],
    key_names: list[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, int, list[dict[str, Any]]]:
    """Put ``items`` (at most 25) with BatchWriteItem, resending what comes back unprocessed.

    Returns (requests sent, items resent, keys given up on after ``STALL_LIMIT`` fruitless rounds).
    """
    pending: Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef] = [{"PutRequest": {"Item": item}} for item in items]
    requests = resent = stalled = 0
    while pending:
        response = dynamodb.batch_write_item(RequestItems={table: pending})
        requests += 1
        left = response.get("UnprocessedItems", {}).get(table, [])
        stalled = stalled + 1 if len(left) == len(pending) else 0
        if left and stalled >= STALL_LIMIT:
            return requests, resent, [{k: r["PutRequest"]["Item"][k] for k in key_names} for r in left]
        if left:
            resent += len(left)
            # Exponential backoff with full jitter, growing while the service keeps refusing.
            sleep(random.uniform(0, min(MAX_DELAY_S, BASE_DELAY_S * 2 ** min(requests, 10))))
        pending = left
    return requests, resent, []


def _batches(backup: Backup) -> Iterator[list[dict[str, Any]]]:
    items = (item for _segment, item in iter_backup_items(backup))
    while batch := list(islice(items, BATCH_SIZE)):
        yield batch


def bulk_restore(
    dynamodb: DynamoDBClient,
    backup: Backup,
    table: str,
    *,
    create: bool = False,
    workers: int = DEFAULT_WORKERS,
    on_items: Callable[[int], None] | None = None,
    after_create: Callable[[], None] | None = None,
) -> BulkResult:
    """Write every item of ``backup`` (already verified) into the new or empty ``table``."""
    started = time.perf_counter()
    created = prepare_table(dynamodb, backup, table, create=create, after_create=after_create)
    key_names = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
    result = BulkResult(backup.run_id, table, created)
    in_flight: dict[Future[tuple[int, int, list[dict[str, Any]]]], int] = {}

    def collect(block_until: int) -> None:
        while len(in_flight) > block_until:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                size = in_flight.pop(future)
                requests, resent, unwritten = future.result()
                result.requests += requests
                result.unprocessed_resent += resent
                result.unwritten += unwritten
                result.items += size - len(unwritten)
                if on_items:
                    on_items(size)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="bulk-restore") as pool:
        for batch in _batches(backup):
            collect(block_until=2 * workers - 1)
            in_flight[pool.submit(write_batch, dynamodb, table, batch, key_names)] = len(batch)
        collect(block_until=0)
    result.seconds = time.perf_counter() - started
    return result
