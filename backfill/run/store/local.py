"""``LocalStore``: the run store as a local directory (temporary name, fsync, rename)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from backfill.run.store.base import StoreError


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalAppendLog:
    """One file; each line is written and flushed to the OS before ``append`` returns (a killed
    process loses nothing); ``close`` fsyncs for power loss."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def append(self, line: str) -> None:
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle.closed:
                return
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()


class LocalStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.location = str(directory)

    def path(self, name: str) -> Path:
        return self.directory / name

    def uri(self, name: str) -> str:
        return str(self.path(name))

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def names(self, suffix: str = "") -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.glob(f"*{suffix}") if p.is_file())

    def read_bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    @contextlib.contextmanager
    def open_read(self, name: str) -> Iterator[IO[bytes]]:
        with open(self.path(name), "rb") as handle:
            yield handle

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.open_write(name) as handle:
            handle.write(data)

    @contextlib.contextmanager
    def open_write(self, name: str) -> Iterator[IO[bytes]]:
        self._make_directory()
        final = self.path(name)
        tmp = final.with_name(final.name + ".tmp")
        try:
            with open(tmp, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no partial file left behind
            raise
        fsync_dir(self.directory)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def append_log(self, name: str) -> LocalAppendLog:
        self._make_directory()
        return LocalAppendLog(self.path(name))

    def read_log(self, name: str) -> Iterator[tuple[str, bool]]:
        path = self.path(name)
        if not path.exists():
            return
        with open(path, encoding="utf-8") as handle:  # streamed: one line of lookahead
            previous: str | None = None
            for line in handle:
                if previous is not None:
                    yield previous, False
                previous = line.rstrip("\n")
            if previous is not None:
                yield previous, True

    def _make_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the run store directory {self.directory}: {error.strerror or error}") from error
