"""The migration ledger: what a run wrote to each event, and what it wrote it over.

One JSON line per write attempt, appended and flushed to the OS *before* the write is sent:
``{"eventId": ..., "changes": <typed owned fields SET>, "read": <typed item as read>}``. ``read``
is the state the write was computed from and conditioned on, so restore can tell "still as the
migration left it" (``read`` + ``changes``) from "changed by a live writer since", and revert a row
to exactly ``read``: an application's change made before the migration's write survives, even when
it came after the backup. Values are typed DynamoDB JSON (binary as base64, numbers as the
service's text), so they go back to the table exactly.

A torn last line (crash mid-append) is ignored: the write it announced was never sent. Lines of
ledgers written before ``read`` existed (format 1) are read with ``read = None``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backfill.backup import decode_item, encode_item
from chalicelib.items import to_python, to_typed

LEDGER_SUFFIX = ".ledger.jsonl"


@dataclass(frozen=True)
class LedgerEntry:
    """One write attempt: owned fields set, and the item they were computed from (plain values)."""

    changes: dict[str, Any]
    read: dict[str, Any] | None  # None: a format-1 line, which did not record it


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def record(self, event_id: str, changes: Mapping[str, Any], read: Mapping[str, Any]) -> None:
        line = json.dumps(
            {"eventId": event_id, "changes": encode_item(to_typed(changes)), "read": encode_item(to_typed(read))},
            sort_keys=True,
        )
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()  # survives a killed process; close() fsyncs for power loss

    def close(self) -> None:
        with self._lock:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_ledger(path: Path) -> dict[str, list[LedgerEntry]]:
    """eventId -> the run's write attempts on it, in the order they were made."""
    entries: dict[str, list[LedgerEntry]] = {}
    if not path.exists():
        return entries
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break  # torn final line: the write it announced was never sent
            raise
        read = to_python(decode_item(record["read"])) if "read" in record else None
        entry = LedgerEntry(to_python(decode_item(record["changes"])), read)
        entries.setdefault(record["eventId"], []).append(entry)
    return entries


def last_changes(ledger: Mapping[str, list[LedgerEntry]]) -> dict[str, dict[str, Any]]:
    """eventId -> the owned fields the run last set or tried to set, over all its attempts."""
    merged: dict[str, dict[str, Any]] = {}
    for event_id, attempts in ledger.items():
        for attempt in attempts:
            merged[event_id] = {**merged.get(event_id, {}), **attempt.changes}
    return merged
