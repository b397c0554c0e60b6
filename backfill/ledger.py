"""The migration ledger: what a run wrote to each event, next to its backup.

One JSON line per write attempt, appended and flushed to the OS *before* the write is sent:
``{"eventId": ..., "changes": <typed owned fields SET>}``. Restore reads the last line per event
to know exactly what state the migration left, so it can tell "still as migrated" from "changed
by a live writer since". A torn last line (crash mid-append) is ignored.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backfill.backup import decode_item, encode_item
from chalicelib.items import to_python, to_typed

LEDGER_SUFFIX = ".ledger.jsonl"


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def record(self, event_id: str, changes: Mapping[str, Any]) -> None:
        line = json.dumps({"eventId": event_id, "changes": encode_item(to_typed(changes))}, sort_keys=True)
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


def read_ledger(path: Path) -> dict[str, dict[str, Any]]:
    """eventId -> the owned fields (plain Python values) the run last set or tried to set."""
    entries: dict[str, dict[str, Any]] = {}
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
        previous = entries.get(record["eventId"], {})
        entries[record["eventId"]] = {**previous, **to_python(decode_item(record["changes"]))}
    return entries
