"""Lossless, checksummed, atomically written backups of a table.

A backup is two files in the backup directory:
- ``RUN_ID.jsonl.gz``: one JSON object per line, ``{"segment": K, "item": <typed item>}``, the
  item in DynamoDB's typed JSON exactly as the service returned it (binary as base64, as on
  the wire), so numbers, sets, binary and nested maps survive a round trip;
- ``RUN_ID.manifest.json``: table, endpoint, time, segments, item count and the sha256 of the
  data file.
Both are written to a temporary name, fsynced and renamed, so a crash never leaves a backup
that looks complete but is not.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backfill.scan import parallel_scan

FORMAT = "dynamo-evolve-backup"
FORMAT_VERSION = 1
DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"


class BackupError(Exception):
    """A backup is missing, damaged or does not belong to the table at hand."""


# --- typed JSON <-> JSON-safe values -------------------------------------------------------

def encode_value(value: dict[str, Any]) -> dict[str, Any]:
    """Typed attribute value as the client returns it -> JSON-safe (bytes become base64)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {k: encode_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [encode_value(v) for v in inner]}
    return {kind: inner}


def decode_value(value: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``encode_value``: JSON-safe -> typed attribute value the client accepts."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner, validate=True)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b, validate=True) for b in inner]}
    if kind == "M":
        return {"M": {k: decode_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [decode_value(v) for v in inner]}
    return {kind: inner}


def encode_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: encode_value(value) for name, value in item.items()}


def decode_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: decode_value(value) for name, value in item.items()}


# --- the backup itself -----------------------------------------------------------------------

@dataclass(frozen=True)
class Backup:
    manifest: dict[str, Any]
    manifest_path: Path

    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def table(self) -> str:
        return self.manifest["table"]

    @property
    def item_count(self) -> int:
        return int(self.manifest["item_count"])

    @property
    def data_path(self) -> Path:
        return self.manifest_path.parent / self.manifest["file"]

    def sibling(self, suffix: str) -> Path:
        """A file that belongs to this run (checkpoint, report) next to the backup."""
        return self.manifest_path.parent / f"{self.run_id}{suffix}"


def new_run_id(table: str, segments: Sequence[int] | None, total_segments: int) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    run_id = f"{table}-{stamp}"
    if segments is not None and len(segments) < total_segments:
        run_id += "-seg" + "_".join(str(s) for s in segments) + f"of{total_segments}"
    return run_id


def write_json_atomic(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_backup(
    dynamodb: Any,
    table: str,
    directory: Path,
    *,
    region: str,
    endpoint: str,
    total_segments: int = 1,
    segments: Sequence[int] | None = None,
    run_id: str | None = None,
    on_items: Callable[[int], None] | None = None,
) -> Backup:
    """Scan ``table`` (parallel) into a new backup, then read it back and verify it."""
    directory.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id(table, segments, total_segments)
    data_path = directory / f"{run_id}{DATA_SUFFIX}"
    tmp_path = data_path.with_name(data_path.name + ".tmp")
    started = time.time()
    count = 0
    with open(tmp_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for page in parallel_scan(dynamodb, table, total_segments=total_segments, segments=segments):
            lines = b"".join(
                json.dumps({"segment": page.segment, "item": encode_item(item)}, sort_keys=True).encode()
                + b"\n"
                for item in page.items
            )
            gz.write(lines)
            count += len(page.items)
            if on_items:
                on_items(len(page.items))
        gz.close()
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp_path, data_path)
    _fsync_dir(directory)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "run_id": run_id,
        "table": table,
        "region": region,
        "endpoint": endpoint,
        "created_at": datetime.fromtimestamp(started, timezone.utc).isoformat(),
        "created_at_ms": int(started * 1000),
        "item_count": count,
        "sha256": file_sha256(data_path),
        "file": data_path.name,
        "total_segments": total_segments,
        "segments": list(range(total_segments)) if segments is None else list(segments),
        **key_schema_of(dynamodb, table),
    }
    manifest_path = directory / f"{run_id}{MANIFEST_SUFFIX}"
    write_json_atomic(manifest_path, manifest)
    backup = Backup(manifest, manifest_path)
    verify_backup(backup, table=table)
    return backup


def key_schema_of(dynamodb: Any, table: str) -> dict[str, Any]:
    """The table's key schema and key attribute types, kept so a backup can recreate its table."""
    description = dynamodb.describe_table(TableName=table)["Table"]
    keys = {k["AttributeName"] for k in description["KeySchema"]}
    return {
        "key_schema": description["KeySchema"],
        "key_attributes": [a for a in description["AttributeDefinitions"] if a["AttributeName"] in keys],
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_backup(path: Path | str) -> Backup:
    """Open a backup by its data file, manifest or run id path. Raises BackupError."""
    path = Path(path)
    name = path.name
    if name.endswith(MANIFEST_SUFFIX):
        manifest_path = path
    elif name.endswith(DATA_SUFFIX):
        manifest_path = path.with_name(name[: -len(DATA_SUFFIX)] + MANIFEST_SUFFIX)
    else:
        manifest_path = path.with_name(name + MANIFEST_SUFFIX)
    if not manifest_path.exists():
        raise BackupError(f"no backup manifest at {manifest_path}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"manifest {manifest_path} is unreadable: {error}") from error
    missing = {"format", "run_id", "table", "item_count", "sha256", "file"} - set(manifest)
    if manifest.get("format") != FORMAT or missing:
        raise BackupError(f"{manifest_path} is not a {FORMAT} manifest (missing {sorted(missing)})")
    return Backup(manifest, manifest_path)


def verify_backup(backup: Backup, *, table: str | None = None) -> None:
    """Check file presence, sha256, that every line decodes, and the item count."""
    if table is not None and backup.table != table:
        raise BackupError(f"backup {backup.run_id} is of table {backup.table!r}, not {table!r}")
    if not backup.data_path.exists():
        raise BackupError(f"backup data file {backup.data_path} is missing")
    actual = file_sha256(backup.data_path)
    if actual != backup.manifest["sha256"]:
        raise BackupError(
            f"backup {backup.data_path} is damaged: sha256 {actual} != manifest {backup.manifest['sha256']}"
        )
    count = sum(1 for _ in iter_backup_items(backup))
    if count != backup.item_count:
        raise BackupError(f"backup {backup.run_id} holds {count} items, manifest says {backup.item_count}")


def iter_backup_items(backup: Backup) -> Iterator[tuple[int, dict[str, Any]]]:
    """(segment, typed item) for every backed-up item, in the order they were scanned."""
    try:
        with gzip.open(backup.data_path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    record = json.loads(line)
                    yield int(record["segment"]), decode_item(record["item"])
                except (ValueError, KeyError, TypeError) as error:
                    raise BackupError(f"backup {backup.run_id} line {number} is garbled: {error}") from error
    except (OSError, EOFError) as error:
        raise BackupError(f"backup {backup.data_path} cannot be read: {error}") from error


@dataclass(frozen=True)
class BackupListing:
    backup: Backup | None
    path: Path
    problem: str | None


def list_backups(directory: Path, table: str | None = None, *, check: bool = True) -> list[BackupListing]:
    """Every backup manifest in ``directory`` (newest first), with a problem when it is damaged."""
    listings = []
    if not directory.exists():
        return listings
    for manifest_path in sorted(directory.glob(f"*{MANIFEST_SUFFIX}"), reverse=True):
        try:
            backup = load_backup(manifest_path)
        except BackupError as error:
            listings.append(BackupListing(None, manifest_path, str(error)))
            continue
        if table is not None and backup.table != table:
            continue
        problem = None
        if check:
            try:
                verify_backup(backup)
            except BackupError as error:
                problem = str(error)
        listings.append(BackupListing(backup, manifest_path, problem))
    listings.sort(key=lambda entry: entry.backup.manifest.get("created_at_ms", 0) if entry.backup else 0, reverse=True)
    return listings


def newest_backup(directory: Path, table: str) -> Backup | None:
    for listing in list_backups(directory, table, check=False):
        if listing.backup is not None:
            return listing.backup
    return None
