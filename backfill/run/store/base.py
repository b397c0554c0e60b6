"""The run store: where a run keeps its backups, manifests, ledgers, checkpoints and reports.

One interface, two places: a local directory (``LocalStore``) and ``s3://bucket/prefix``
(``S3Store``). Names are flat (``RUN_ID.manifest.json``); the store maps them to files or keys.
Every write is all-or-nothing: a reader sees the whole object or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import IO, Any, NamedTuple, Protocol

from backfill.errors import BadInput


class StoreError(BadInput):
    """The store cannot be reached, read or written (names the location and the reason)."""


class LogLine(NamedTuple):
    """One line of a log, and where it is (for messages: a file and line, or an S3 part and line)."""

    text: str
    may_be_torn: bool  # only a crash can tear the last line of a local log
    where: str


class AppendLog(Protocol):
    """Lines appended durably: ``append`` returns only once the line survives a killed process."""

    def append(self, line: str) -> None: ...

    def close(self) -> None: ...

    def seal_state(self) -> dict[str, Any]:
        """What the run's seal records of the log so far (``backfill.run.seal``)."""
        ...


class RunStore(Protocol):
    location: str  # what the user typed: a directory or s3://bucket/prefix

    def uri(self, name: str) -> str:
        """Where ``name`` lives, for people (a path or an s3:// URI)."""
        ...

    def exists(self, name: str) -> bool: ...

    def names(self, suffix: str = "") -> list[str]:
        """Names directly in the store ending with ``suffix``, sorted."""
        ...

    def read_bytes(self, name: str) -> bytes: ...

    def open_read(self, name: str) -> AbstractContextManager[IO[bytes]]:
        """A binary stream of ``name`` (read in blocks: bounded memory)."""
        ...

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write ``name`` atomically and durably (replaces an older version)."""
        ...

    def open_write(self, name: str) -> AbstractContextManager[IO[bytes]]:
        """A binary stream that becomes ``name`` only when the block exits without error."""
        ...

    def delete(self, name: str) -> None: ...

    def append_log(self, name: str, sealed: dict[str, Any] | None = None) -> AppendLog:
        """Open the log ``name`` for appending (a new attempt adds to what earlier ones left).
        ``sealed``: what the run's seal says of it (its ``seal_state`` then starts from that
        instead of reading every earlier part again)."""
        ...

    def read_log(self, name: str) -> Iterator[LogLine]:
        """The lines of log ``name`` in append order; only a crash can tear the last line."""
        ...

    def log_parts(self, name: str) -> list[str]:
        """The names (readable with ``open_read``) of the objects log ``name`` is made of, in order."""
        ...

    def delete_log(self, name: str) -> None:
        """Delete log ``name`` and every part of it (an S3 log is many objects)."""
        ...
