"""The migration ledger: what a run wrote to each event, next to its backup.

One JSON line per write attempt, durable in the run store *before* the write is sent (a local
file flushed to the OS; on S3 a group-committed object, see ``backfill.store.s3``):
``{"eventId": ..., "changes": <typed owned fields SET>}``. Restore reads the last line per event
to know exactly what state the migration left, so it can tell "still as migrated" from "changed
by a live writer since". A torn last line (crash mid-append) is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from backfill.backup import decode_item, encode_item
from backfill.store import RunStore
from chalicelib.items import to_python, to_typed

LEDGER_SUFFIX = ".ledger.jsonl"


class Ledger:
    def __init__(self, store: RunStore, name: str) -> None:
        self._log = store.append_log(name)

    def record(self, event_id: str, changes: Mapping[str, Any]) -> None:
        line = json.dumps({"eventId": event_id, "changes": encode_item(to_typed(changes))}, sort_keys=True)
        self._log.append(line)  # returns once the line survives a killed process

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ledger_exists(store: RunStore, name: str) -> bool:
    return any(True for _ in store.read_log(name))


def read_ledger(store: RunStore, name: str) -> dict[str, dict[str, Any]]:
    """eventId -> the owned fields (plain Python values) the run last set or tried to set."""
    entries: dict[str, dict[str, Any]] = {}
    for line, may_be_torn in store.read_log(name):
        try:
            record = json.loads(line)
        except ValueError:
            if may_be_torn:
                break  # torn final line: the write it announced was never sent
            raise
        previous = entries.get(record["eventId"], {})
        entries[record["eventId"]] = {**previous, **to_python(decode_item(record["changes"]))}
    return entries
