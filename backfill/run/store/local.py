"""``LocalStore``: the run store as a local directory (temporary name, fsync, rename).

Private by default: the files hold every user's data (backups, ledgers, checkpoints, reports), so
each is created 0600 and a directory the store creates is 0700, whatever the umask. A store
directory another user could write to (group- or world-writable, e.g. ``/tmp``) is refused: anyone
who can write there can replace a backup that a restore would later write back to the table.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from backfill.run.store.base import LogLine, StoreError


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


def private_directory(directory: Path, *, check: bool = True) -> None:
    """Create ``directory`` 0700 (its missing parents as the umask says), or (``check``) check an
    existing one: refused (``StoreError``) if another user could write to it."""
    try:
        directory.mkdir(mode=PRIVATE_DIRECTORY, parents=True)
        os.chmod(directory, PRIVATE_DIRECTORY)  # mkdir's mode is masked by the umask
        return
    except FileExistsError:
        pass
    except OSError as error:
        raise StoreError(f"cannot create the run store directory {directory}: {error.strerror or error}") from error
    if not check:
        return
    try:
        status = directory.stat()
    except OSError as error:
        raise StoreError(f"cannot read the run store directory {directory}: {error.strerror or error}") from error
    mode = status.st_mode
    if not stat.S_ISDIR(mode):
        raise StoreError(f"the run store {directory} is a file, not a directory")
    writers = [who for who, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if mode & bit
               and not (who == "group" and private_group(status.st_uid, status.st_gid))]
    if writers:
        raise StoreError(
            f"the run store directory {directory} is writable by {' and '.join(writers)} "
            f"(mode {stat.S_IMODE(mode):04o}): another user could replace a backup; "
            f"run chmod 700 {directory} or choose another --backup-dir"
        )


def private_group(uid: int, gid: int) -> bool:
    """Is ``gid`` the owner's own group (a user private group: the owner's primary group, named
    after them, no other member)? Then group-writable means writable by the owner only (a umask
    of 002 makes such directories, the default for users on Debian and Ubuntu)."""
    try:
        owner, group = pwd.getpwuid(uid), grp.getgrgid(gid)
    except KeyError:
        return False
    if owner.pw_gid != gid or group.gr_name != owner.pw_name or set(group.gr_mem) - {owner.pw_name}:
        return False
    return not any(user.pw_gid == gid and user.pw_uid != uid for user in pwd.getpwall())


def open_private(path: Path, flags: int) -> int:
    """``os.open`` a file that is 0600 whatever the umask (also one an older version left 0644)."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


class LocalAppendLog:
    """One file; each line is written and flushed to the OS before ``append`` returns (a killed
    process loses nothing); ``close`` fsyncs for power loss."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        fd = open_private(path, os.O_WRONLY | os.O_APPEND)
        self._handle = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

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
    """``private=False`` is for files that are not run data (a project's .chalice/config.json):
    the directory is left as it is and a replaced file keeps its mode. ``check_directory=False``
    writes private files into a directory that is not a run store (the current directory)."""

    def __init__(self, directory: str | Path, *, private: bool = True, check_directory: bool = True) -> None:
        self.directory = Path(directory)
        self.location = str(directory)
        self.private = private
        self.check_directory = check_directory

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
            with open(self._create(tmp, final), "wb") as handle:
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

    def delete_log(self, name: str) -> None:
        self.delete(name)

    def append_log(self, name: str) -> LocalAppendLog:
        self._make_directory()
        return LocalAppendLog(self.path(name))

    def read_log(self, name: str) -> Iterator[LogLine]:
        path = self.path(name)
        if not path.exists():
            return
        with open(path, encoding="utf-8") as handle:  # streamed: one line of lookahead
            previous: str | None = None
            number = 0
            for line in handle:
                if previous is not None:
                    yield LogLine(previous, False, f"{path} line {number}")
                previous = line.rstrip("\n")
                number += 1
            if previous is not None:
                yield LogLine(previous, True, f"{path} line {number}")

    def _create(self, tmp: Path, final: Path) -> int:
        flags = os.O_WRONLY | os.O_TRUNC
        if self.private:
            return open_private(tmp, flags)
        fd = os.open(tmp, flags | os.O_CREAT, 0o666)  # the umask's mode, or the replaced file's
        with contextlib.suppress(FileNotFoundError):
            os.fchmod(fd, stat.S_IMODE(final.stat().st_mode))
        return fd

    def _make_directory(self) -> None:
        if self.private:
            private_directory(self.directory, check=self.check_directory)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the directory {self.directory}: {error.strerror or error}") from error
