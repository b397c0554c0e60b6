"""Lossless, checksummed, atomically written backups of a table.

A backup is two files in the run store (a local directory or s3://bucket/prefix):
- ``RUN_ID.jsonl.gz``: one JSON object per line, ``{"segment": K, "item": <typed item>}``, the
  item in DynamoDB's typed JSON exactly as the service returned it (binary as base64, as on
  the wire), so numbers, sets, binary and nested maps survive a round trip;
- ``RUN_ID.manifest.json``: table, endpoint, time, segments, item count and the sha256 of the
  data file.
Each is written whole or not at all (``backfill.run.store``), data first and manifest last, so a
crash never leaves a backup that looks complete but is not.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backfill.run.names import DATA_SUFFIX as DATA_SUFFIX
from backfill.run.names import MANIFEST_SUFFIX as MANIFEST_SUFFIX
from backfill.run.store import LocalStore, RunStore, StoreError, open_store, split_location

FORMAT = "dynamo-evolve-backup"
FORMAT_VERSION = 1


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
    store: RunStore
    manifest_name: str

    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def run(self) -> str:
        """The run this backup belongs to (several split workers share one; else its own id)."""
        return str(self.manifest.get("run") or self.run_id)

    @property
    def table(self) -> str:
        return self.manifest["table"]

    @property
    def item_count(self) -> int:
        return int(self.manifest["item_count"])

    @property
    def total_segments(self) -> int:
        return int(self.manifest.get("total_segments", 1))

    @property
    def segments(self) -> list[int]:
        return [int(s) for s in self.manifest.get("segments", range(self.total_segments))]

    def items_of(self, segment: int) -> int:
        """Items backed up of ``segment`` (a manifest from before ``segment_items``: the whole count)."""
        return int((self.manifest.get("segment_items") or {}).get(str(segment), self.item_count))

    @property
    def data_name(self) -> str:
        return str(self.manifest["file"])

    @property
    def data_uri(self) -> str:
        """Where the data lives, for people and for ``--resume``/``restore`` (path or s3:// URI)."""
        return self.store.uri(self.data_name)

    def name_for(self, suffix: str) -> str:
        """The name of a file of this run (ledger, checkpoint, report) in the same store."""
        return f"{self.run_id}{suffix}"

    # Local-directory conveniences (tests and tools poke at the files directly).
    @property
    def data_path(self) -> Path:
        return self._local_path(self.data_name)

    @property
    def manifest_path(self) -> Path:
        return self._local_path(self.manifest_name)

    def sibling(self, suffix: str) -> Path:
        return self._local_path(self.name_for(suffix))

    def _local_path(self, name: str) -> Path:
        if not isinstance(self.store, LocalStore):
            raise TypeError(f"{self.store.uri(name)} is not a local file")
        return self.store.path(name)


def new_run_id(table: str, segments: Sequence[int] | None, total_segments: int, run: str | None = None) -> str:
    """The id of one worker's backup: the run name (or table + time) plus its segments."""
    if run is None:
        run = f"{table}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}"
    if segments is not None and len(segments) < total_segments:
        run += "-seg" + "_".join(str(s) for s in segments) + f"of{total_segments}"
    return run


def write_json_atomic(path: Path, payload: Any) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True, default=str))


def write_text_atomic(path: Path, text: str, *, private: bool = True) -> None:
    """Write to a temporary name, fsync, rename: readers see the old file or the new one.

    ``private``: the file is 0600 (a missing directory 0700); otherwise it keeps its mode."""
    LocalStore(path.parent, private=private, check_directory=False).write_bytes(path.name, text.encode("utf-8"))


def json_bytes(payload: Any) -> bytes:
    """How the run store's JSON files are written."""
    return json.dumps(payload, indent=2, sort_keys=True, default=str).encode("utf-8")


def write_json(store: RunStore, name: str, payload: Any) -> None:
    store.write_bytes(name, json_bytes(payload))


def read_json(store: RunStore, name: str) -> Any:
    return json.loads(store.read_bytes(name).decode("utf-8"))


def file_sha256(path: Path) -> str:
    return stored_sha256(LocalStore(path.parent), path.name)


def stored_sha256(store: RunStore, name: str) -> str:
    digest = hashlib.sha256()
    with store.open_read(name) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_name_of(name: str) -> str:
    """The manifest name for a data file, manifest or bare run id name."""
    if name.endswith(MANIFEST_SUFFIX):
        return name
    if name.endswith(DATA_SUFFIX):
        return name[: -len(DATA_SUFFIX)] + MANIFEST_SUFFIX
    return name + MANIFEST_SUFFIX


def load_backup(path: Path | str, *, store: RunStore | None = None) -> Backup:
    """Open a backup by its data file, manifest or run id (a path, an s3:// URI, or a name in
    ``store``). Raises BackupError."""
    if store is None:
        location, name = split_location(path)
        store = open_store(location)
    else:
        name = str(path)
    manifest_name = manifest_name_of(name)
    try:
        if not store.exists(manifest_name):
            raise BackupError(f"no backup manifest at {store.uri(manifest_name)}")
        manifest = read_json(store, manifest_name)
    except (OSError, ValueError, StoreError) as error:
        raise BackupError(f"manifest {store.uri(manifest_name)} is unreadable: {error}") from error
    missing = {"format", "run_id", "table", "item_count", "sha256", "file"} - set(manifest)
    if manifest.get("format") != FORMAT or missing:
        raise BackupError(f"{store.uri(manifest_name)} is not a {FORMAT} manifest (missing {sorted(missing)})")
    return Backup(manifest, store, manifest_name)


def verify_backup(backup: Backup, *, table: str | None = None) -> None:
    """Check file presence, sha256, that every line decodes, and the item count."""
    if table is not None and backup.table != table:
        raise BackupError(f"backup {backup.run_id} is of table {backup.table!r}, not {table!r}")
    try:
        if not backup.store.exists(backup.data_name):
            raise BackupError(f"backup data file {backup.data_uri} is missing")
        actual = stored_sha256(backup.store, backup.data_name)
    except (OSError, StoreError) as error:
        raise BackupError(f"backup {backup.data_uri} cannot be read: {error}") from error
    if actual != backup.manifest["sha256"]:
        raise BackupError(
            f"backup {backup.data_uri} is damaged: sha256 {actual} != manifest {backup.manifest['sha256']}"
        )
    count = sum(1 for _ in iter_backup_items(backup))
    if count != backup.item_count:
        raise BackupError(f"backup {backup.run_id} holds {count} items, manifest says {backup.item_count}")


def iter_backup_items(backup: Backup) -> Iterator[tuple[int, dict[str, Any]]]:
    """(segment, typed item) for every backed-up item, in the order they were scanned (streamed)."""
    try:
        with backup.store.open_read(backup.data_name) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    record = json.loads(line)
                    yield int(record["segment"]), decode_item(record["item"])
                except (ValueError, KeyError, TypeError) as error:
                    raise BackupError(f"backup {backup.run_id} line {number} is garbled: {error}") from error
    except (OSError, EOFError, StoreError) as error:
        raise BackupError(f"backup {backup.data_uri} cannot be read: {error}") from error


@dataclass(frozen=True)
class BackupListing:
    backup: Backup | None
    location: str  # where the manifest is (path or s3:// URI)
    problem: str | None

    @property
    def path(self) -> str:
        return self.location


def list_backups(
    directory: Path | str | RunStore, table: str | None = None, *, check: bool = True
) -> list[BackupListing]:
    """Every backup manifest in the store (newest first), with a problem when it is damaged."""
    store = open_store(directory)
    listings = []
    try:
        manifest_names = store.names(MANIFEST_SUFFIX)
    except StoreError as error:
        raise BackupError(str(error)) from error
    for manifest_name in manifest_names:
        try:
            backup = load_backup(manifest_name, store=store)
        except BackupError as error:
            listings.append(BackupListing(None, store.uri(manifest_name), str(error)))
            continue
        if table is not None and backup.table != table:
            continue
        problem = None
        if check:
            try:
                verify_backup(backup)
            except BackupError as error:
                problem = str(error)
        listings.append(BackupListing(backup, store.uri(manifest_name), problem))
    listings.sort(key=lambda entry: entry.backup.manifest.get("created_at_ms", 0) if entry.backup else 0, reverse=True)
    return listings


def newest_backup(directory: Path | str | RunStore, table: str) -> Backup | None:
    for listing in list_backups(directory, table, check=False):
        if listing.backup is not None:
            return listing.backup
    return None
