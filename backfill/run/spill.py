"""Table-sized state on disk instead of in memory: one temporary SQLite file per command.

verify (``backfill.verify.spill``) and restore (``backfill.restore.index``) stream a backup, a
ledger and a table scan that can each be larger than memory; they keep what they must look up
later (an item by its name, the items a scan never showed, the decisions taken) in a
``SpillFile``, so the process holds a page of the scan and a bounded batch of rows, whatever
the table's size. The file lives in a temporary directory removed on ``close`` (or at exit);
it is scratch space, not a record: nothing in it needs to survive a crash (journal and fsync off).

Items are kept as the backup's own typed JSON (``dump_typed``/``load_typed``: numbers stay the
service's text, binary base64), so what comes back out is exactly what went in.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backfill.run.backup import decode_item, encode_item


def dump_typed(typed: dict[str, Any]) -> str:
    """A typed DynamoDB item as JSON text, exactly (the backup's encoding)."""
    return json.dumps(encode_item(typed), separators=(",", ":"))


def load_typed(text: str) -> dict[str, Any]:
    return decode_item(json.loads(text))


class SpillFile:
    """A temporary SQLite database for one command; ``schema`` is its CREATE statements.

    One thread at a time uses it (the restore's writer threads get their items handed to them)."""

    def __init__(self, prefix: str, schema: str) -> None:
        directory = Path(tempfile.mkdtemp(prefix=prefix))
        # One thread uses it; the cleanup may run in whichever thread collects the object.
        self.db = sqlite3.connect(directory / "spill.sqlite", isolation_level=None, check_same_thread=False)
        # Removed on close(), or when this object is collected, or at exit (whichever comes first).
        self._cleanup = weakref.finalize(self, _remove, self.db, directory)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Many statements in one transaction (one commit instead of one per row)."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self._cleanup()

    def __enter__(self) -> SpillFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove(db: sqlite3.Connection, directory: Path) -> None:
    db.close()
    shutil.rmtree(directory, ignore_errors=True)
