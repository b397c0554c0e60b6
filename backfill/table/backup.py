"""Taking a backup of a table: scan it (parallel) into a new backup of a run store, checksummed on
the way, then read it back and verify it. What a backup is, and reading it, is ``backfill.run.backup``."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backfill.run.backup import (
    DATA_SUFFIX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_SUFFIX,
    Backup,
    encode_item,
    new_run_id,
    verify_backup,
    write_json,
)
from backfill.run.seal import write_seal
from backfill.run.store import RunStore, open_store
from backfill.table.scan import parallel_scan

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient


def create_backup(
    dynamodb: DynamoDBClient,
    table: str,
    directory: Path | str | RunStore,
    *,
    region: str,
    endpoint: str,
    total_segments: int = 1,
    segments: Sequence[int] | None = None,
    run_id: str | None = None,
    run: str | None = None,
    on_items: Callable[[int], None] | None = None,
) -> Backup:
    """Scan ``table`` (parallel) into a new backup, then read it back and verify it.

    Data first (streamed, checksummed on the way), manifest last: the backup exists only once
    the manifest does, and the manifest is written only after the data is complete."""
    store = open_store(directory)
    run_id = run_id or new_run_id(table, segments, total_segments)
    data_name = f"{run_id}{DATA_SUFFIX}"
    started = time.time()
    count = 0
    per_segment: dict[int, int] = {}
    digest = hashlib.sha256()
    with store.open_write(data_name) as raw:
        hashing = _HashingWriter(raw, digest)
        with gzip.GzipFile(fileobj=hashing, mode="wb", mtime=0) as gz:
            for page in parallel_scan(dynamodb, table, total_segments=total_segments, segments=segments):
                lines = b"".join(
                    json.dumps({"segment": page.segment, "item": encode_item(item)}, sort_keys=True).encode()
                    + b"\n"
                    for item in page.items
                )
                gz.write(lines)
                count += len(page.items)
                per_segment[page.segment] = per_segment.get(page.segment, 0) + len(page.items)
                if on_items:
                    on_items(len(page.items))
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "run_id": run_id,
        "run": run or run_id,
        "table": table,
        "region": region,
        "endpoint": endpoint,
        "created_at": datetime.fromtimestamp(started, timezone.utc).isoformat(),
        "created_at_ms": int(started * 1000),
        "item_count": count,
        "sha256": digest.hexdigest(),
        "file": data_name,
        "total_segments": total_segments,
        "segments": list(range(total_segments)) if segments is None else list(segments),
        "segment_items": {str(s): per_segment.get(s, 0) for s in (range(total_segments) if segments is None else segments)},
        "sealed": True,  # its ledger and checkpoint are checked against RUN_ID.seal.json (backfill.run.seal)
        **key_schema_of(dynamodb, table),
    }
    manifest_name = f"{run_id}{MANIFEST_SUFFIX}"
    # The run's seal exists from the start (no checkpoint, no ledger yet), so a run whose manifest
    # says "sealed" and has no seal was changed by someone.
    write_seal(store, run_id, checkpoint=(), ledger=None)
    write_json(store, manifest_name, manifest)
    backup = Backup(manifest, store, manifest_name)
    verify_backup(backup, table=table)  # read back from the store before anything is written
    return backup


class _HashingWriter:
    """Passes bytes through to ``raw`` and hashes them (the sha256 of exactly what was stored)."""

    def __init__(self, raw: Any, digest: Any) -> None:
        self._raw, self._digest = raw, digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self._raw.write(data)
        return len(data)

    def flush(self) -> None:
        self._raw.flush()


def key_schema_of(dynamodb: DynamoDBClient, table: str) -> dict[str, Any]:
    """The table's key schema and key attribute types, kept so a backup can recreate its table."""
    description = dynamodb.describe_table(TableName=table)["Table"]
    keys = {k["AttributeName"] for k in description["KeySchema"]}
    return {
        "key_schema": description["KeySchema"],
        "key_attributes": [a for a in description["AttributeDefinitions"] if a["AttributeName"] in keys],
    }
