"""The migration ledger: what a run wrote to each item, and what it wrote it over.

One JSON line per write attempt, durable in the run store *before* the write is sent (a local
file flushed to the OS; on S3 a group-committed object, see ``backfill.run.store.s3``):
``{"item": <name>, "changes": <typed owned fields SET>, "read": <typed item as read>}``, plus
``"removed": <typed owned fields REMOVEd, with their values as read>`` when the write removes any
(a rename's old name once contracted; restore puts those values back exactly). (The item's
name is ``chalicelib.schema.key.Key.name_of``.) ``read``
is the state the write was computed from and conditioned on, so restore can tell "still as the
migration left it" (``read`` + ``changes``) from "changed by a live writer since", and revert a row
to exactly ``read``: an application's change made before the migration's write survives, even when
it came after the backup. Values are typed DynamoDB JSON (binary as base64, numbers as the
service's text), so they go back to the table exactly.

A torn last line (crash mid-append) is ignored: the write it announced was never sent. A line
without ``read`` is not a ledger entry (a damaged ledger, named with its file and line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from backfill.errors import BadInput
from backfill.run.backup import decode_item, encode_item
from backfill.run.names import LEDGER_SUFFIX as LEDGER_SUFFIX
from backfill.run.store import RunStore
from chalicelib.items import to_python, to_typed

ITEM = "item"  # the key of the item's name in a line


class LedgerError(BadInput):
    """A ledger line (not the torn last one) cannot be read: names the file and the line."""


@dataclass(frozen=True)
class LedgerEntry:
    """One write attempt: owned fields set, and the item they were computed from (plain values)."""

    changes: dict[str, Any]
    read: dict[str, Any]
    removed: tuple[str, ...] = ()  # owned fields the write REMOVEd (their values are in ``read``)


class Ledger:
    def __init__(self, store: RunStore, name: str, sealed: dict[str, Any] | None = None) -> None:
        """``sealed``: what the run's seal says of this ledger (``backfill.run.seal``)."""
        self._log = store.append_log(name, sealed)

    def record(
        self, item_name: str, changes: Mapping[str, Any], read: Mapping[str, Any],
        read_typed: Mapping[str, Any] | None = None, removes: tuple[str, ...] = (),
    ) -> None:
        """``read_typed``: ``read`` as the service returned it, when the caller has it (saves
        serializing the whole item again for every write). ``removes``: the fields the write
        REMOVEs (each must be in ``read``: its value is recorded)."""
        typed = read_typed if read_typed is not None else to_typed(read)
        entry = {ITEM: item_name, "changes": encode_item(to_typed(changes)), "read": encode_item(dict(typed))}
        if removes:
            entry["removed"] = encode_item({name: typed[name] for name in removes})
        line = json.dumps(entry, sort_keys=True)
        self._log.append(line)  # returns once the line survives a killed process

    def settled(self, item_name: str, how: str) -> None:
        """After the write just recorded for ``item_name`` had an unclear outcome (5xx, lost
        connection): how reading it back settled it (``chalicelib.settle``: applied, resent,
        conflict). Not a write attempt: readers of attempts skip it."""
        self._log.append(json.dumps({ITEM: item_name, "settled": how}, sort_keys=True))

    def seal_state(self) -> dict[str, Any]:
        return self._log.seal_state()

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ledger_exists(store: RunStore, name: str) -> bool:
    return any(True for _ in store.read_log(name))


def iter_ledger(store: RunStore, name: str, *, writable: frozenset[str] | None = None,
                run: str = "") -> Iterator[tuple[str, LedgerEntry, dict[str, Any]]]:
    """(item name, write attempt, its line as stored) for every line, in order, streamed.

    The line's ``changes`` and ``read`` are the typed JSON as written (kept exactly by a caller
    that spills them to disk); every line is checked as it is read. ``writable``: the attributes
    a line may name in ``changes`` and ``removed`` (restore's authority: what the declaration
    owns); a line naming any other is refused (``LedgerError``, naming ``run``, the file or part
    and line, the item and the attribute), whatever else it says."""
    for line in store.read_log(name):
        try:
            record = json.loads(line.text)
        except ValueError as error:
            if line.may_be_torn:
                return  # torn final line: the write it announced was never sent
            raise LedgerError(f"ledger {line.where} is garbled: {error}") from error
        if isinstance(record, dict) and "settled" in record:
            continue  # how an unclear write ended, not a write attempt
        try:
            entry, item_name = ledger_entry(record), record[ITEM]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise LedgerError(f"ledger {line.where} is not a ledger entry: {error!r}") from error
        if writable is not None:
            foreign = sorted({*entry.changes, *entry.removed} - writable)
            if foreign:
                raise LedgerError(
                    f"ledger {line.where}{f' (run {run!r})' if run else ''} makes item {item_name} "
                    f"write {', '.join(map(repr, foreign))}, which the declaration does not own: the migration "
                    "never writes it, so the ledger was changed by someone else; restore refused before any write")
        yield item_name, entry, record


def ledger_entry(record: Mapping[str, Any]) -> LedgerEntry:
    """A ledger line's write attempt in plain values (``record`` as ``iter_ledger`` yields it)."""
    removed = tuple(sorted(decode_item(record["removed"]))) if "removed" in record else ()
    return LedgerEntry(to_python(decode_item(record["changes"])), to_python(decode_item(record["read"])), removed)


def read_ledger(store: RunStore, name: str) -> dict[str, list[LedgerEntry]]:
    """Item name -> the run's write attempts on it, in the order they were made (in memory: for a
    ledger of any size stream ``iter_ledger``)."""
    entries: dict[str, list[LedgerEntry]] = {}
    for item_name, entry, _record in iter_ledger(store, name):
        entries.setdefault(item_name, []).append(entry)
    return entries
