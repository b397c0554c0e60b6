"""``LocalStore``: the run store as a local directory (temporary name, fsync, rename).

Private by default: the files hold every user's data (backups, ledgers, checkpoints, reports), so
each is created 0600 and a directory the store creates is 0700, whatever the umask. A store
directory another user could write to (group- or world-writable, e.g. ``/tmp``) is refused: anyone
who can write there can replace a backup that a restore would later write back to the table.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import hashlib
import os
import pwd
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

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
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)  # a symlink planted in the store is refused, not followed
ACL_XATTRS = ("system.posix_acl_access", "system.posix_acl_default")
ACL_BASE_TAGS = frozenset({0x01, 0x04, 0x20})  # ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER: the mode bits


def private_directory(directory: Path, *, check: bool = True) -> None:
    """Create ``directory`` and its missing parents 0700 whatever the umask, or (``check``) check
    an existing one with ``check_own_directory``. Raises StoreError."""
    missing = [d for d in (directory, *directory.parents) if not os.path.lexists(d)]
    try:
        for created in reversed(missing):  # outermost first
            os.mkdir(created, PRIVATE_DIRECTORY)
            os.chmod(created, PRIVATE_DIRECTORY)  # mkdir's mode is masked by the umask
    except FileExistsError:
        pass  # made meanwhile (another worker of the run): checked below like any existing one
    except OSError as error:
        raise StoreError(f"cannot create the run store directory {directory}: {error.strerror or error}") from error
    if check and directory not in missing:
        check_own_directory(directory)


def check_own_directory(directory: Path) -> None:
    """Refuse (``StoreError``) a run store directory that is not the caller's own: owned by
    another user, writable by group (unless the owner's private group) or others, or given more
    access by a POSIX ACL than its mode shows. Anyone who can write there can replace a backup or
    a ledger that a restore later writes back to the table. A directory that does not exist
    passes (nothing in it to trust; ``private_directory`` creates it 0700)."""
    try:
        status = directory.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise StoreError(f"cannot read the run store directory {directory}: {error.strerror or error}") from error
    mode = status.st_mode
    if not stat.S_ISDIR(mode):
        raise StoreError(f"the run store {directory} is a file, not a directory")
    if status.st_uid != os.geteuid():
        raise StoreError(
            f"the run store directory {directory} belongs to {_user(status.st_uid)}, not to you "
            f"({_user(os.geteuid())}): its owner can replace a backup or ledger that a restore writes back; "
            "run as its owner or choose another --backup-dir")
    writers = [who for who, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if mode & bit
               and not (who == "group" and private_group(status.st_uid, status.st_gid))]
    if writers:
        raise StoreError(
            f"the run store directory {directory} is writable by {' and '.join(writers)} "
            f"(mode {stat.S_IMODE(mode):04o}): another user could replace a backup; "
            f"run chmod 700 {directory} or choose another --backup-dir"
        )
    extended = extended_acl(directory)
    if extended:
        raise StoreError(
            f"the run store directory {directory} has a POSIX ACL ({extended}) giving access beyond its mode "
            f"{stat.S_IMODE(mode):04o}: another user could replace a backup; run setfacl -b {directory} or "
            "choose another --backup-dir")


def extended_acl(path: Path) -> str:
    """The POSIX ACLs of ``path`` with entries beyond the three the mode bits show ("" if none).
    Read from the xattrs (the kernel's format: a 4-byte version, then 8-byte entries: tag, perm, id)."""
    found = []
    for name in ACL_XATTRS:
        try:
            data = os.getxattr(path, name, follow_symlinks=True)
        except OSError:
            continue  # no ACL (ENODATA), or a file system without them
        entries = [int.from_bytes(data[at:at + 2], "little") for at in range(4, len(data) - 7, 8)]
        if set(entries) - ACL_BASE_TAGS:
            found.append(f"{name.rpartition('_')[2]}: {len(entries)} entries")
    return ", ".join(found)


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
    """``os.open`` a file that is 0600 whatever the umask (also one an older version left 0644),
    refusing a symlink in its place (``StoreError`` naming it)."""
    fd = open_no_follow(path, flags | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_no_follow(path: Path, flags: int, mode: int = PRIVATE_FILE) -> int:
    """``os.open`` without following a symlink at ``path``: a link someone planted in the store
    (to make the tool read or write a file elsewhere) is refused with one line naming it."""
    try:
        return os.open(path, flags | NO_FOLLOW, mode)
    except OSError as error:
        if error.errno == errno.ELOOP or (os.path.islink(path) and error.errno in (errno.EMLINK, errno.EEXIST)):
            raise StoreError(f"{path} is a symbolic link (to {os.readlink(path)}); the run store's files are "
                             "never followed elsewhere: remove the link") from error
        raise


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


class LocalAppendLog:
    """One file; each line is written and flushed to the OS before ``append`` returns (a killed
    process loses nothing); ``close`` fsyncs for power loss."""

    def __init__(self, path: Path, name: str) -> None:
        self._lock = threading.Lock()
        self._name = name
        fd = open_private(path, os.O_WRONLY | os.O_APPEND)
        self._handle = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._digest, self._bytes = hashlib.sha256(), 0  # of the whole file: earlier attempts' lines too
        with open(open_no_follow(path, os.O_RDONLY), "rb") as earlier:
            for block in iter(lambda: earlier.read(1 << 20), b""):
                self._digest.update(block)
                self._bytes += len(block)

    def append(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()
            self._digest.update(data)
            self._bytes += len(data)

    def seal_state(self) -> dict[str, Any]:
        with self._lock:
            return {"parts": {self._name: {"bytes": self._bytes, "sha256": self._digest.hexdigest()}}}

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
    writes private files into a directory that is not a run store (the current directory).

    A run store (the default) is checked once, at its first use, with ``check_own_directory``;
    its files are opened without following symlinks and replaced through a temporary file created
    exclusively, with a random name, beside its target."""

    def __init__(self, directory: str | Path, *, private: bool = True, check_directory: bool = True) -> None:
        self.directory = Path(directory)
        self.location = str(directory)
        self.private = private
        self.check_directory = check_directory
        self._checked = False

    def check(self) -> None:
        """Refuse (``StoreError``) a run store directory that is not the caller's own."""
        if self.private and self.check_directory and not self._checked:
            check_own_directory(self.directory)
            self._checked = True

    def path(self, name: str) -> Path:
        return self.directory / name

    def uri(self, name: str) -> str:
        return str(self.path(name))

    def exists(self, name: str) -> bool:
        self.check()
        return os.path.lexists(self.path(name))  # a planted link exists (and is refused when read)

    def names(self, suffix: str = "") -> list[str]:
        self.check()
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.glob(f"*{suffix}"):
            if path.is_symlink() and self.private:
                raise StoreError(f"{path} is a symbolic link (to {os.readlink(path)}); a run store holds only "
                                 "its own files: remove the link")
            if path.is_file():
                found.append(path.name)
        return sorted(found)

    def read_bytes(self, name: str) -> bytes:
        with self.open_read(name) as handle:
            return handle.read()

    @contextlib.contextmanager
    def open_read(self, name: str) -> Iterator[IO[bytes]]:
        self.check()
        with open(open_no_follow(self.path(name), os.O_RDONLY), "rb") as handle:
            yield handle

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.open_write(name) as handle:
            handle.write(data)

    @contextlib.contextmanager
    def open_write(self, name: str) -> Iterator[IO[bytes]]:
        self.check()
        self._make_directory()
        final = self.path(name)
        # O_EXCL with a random name: nothing planted beforehand can be the temporary file
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            if not self.private:
                os.fchmod(fd, self._mode_for(final))
            with open(fd, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)  # replaces a link at ``final`` itself, never its target
        except BaseException:
            tmp.unlink(missing_ok=True)  # no partial file left behind
            raise
        fsync_dir(self.directory)

    def delete(self, name: str) -> None:
        self.check()
        self.path(name).unlink(missing_ok=True)

    def delete_log(self, name: str) -> None:
        self.delete(name)

    def append_log(self, name: str, sealed: dict[str, Any] | None = None) -> LocalAppendLog:  # noqa: ARG002 - one file, hashed whole
        self.check()
        self._make_directory()
        return LocalAppendLog(self.path(name), name)

    def log_parts(self, name: str) -> list[str]:
        self.check()
        return [name] if os.path.lexists(self.path(name)) else []

    def read_log(self, name: str) -> Iterator[LogLine]:
        self.check()
        path = self.path(name)
        if not os.path.lexists(path):
            return
        with open(open_no_follow(path, os.O_RDONLY), encoding="utf-8") as handle:  # streamed: one line of lookahead
            previous: str | None = None
            number = 0
            for line in handle:
                if previous is not None:
                    yield LogLine(previous, False, f"{path} line {number}")
                previous = line.rstrip("\n")
                number += 1
            if previous is not None:
                yield LogLine(previous, True, f"{path} line {number}")

    @staticmethod
    def _mode_for(final: Path) -> int:
        """A file that is not run data keeps the mode of the one it replaces, else the umask's."""
        try:
            return stat.S_IMODE(final.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            return 0o666 & ~umask

    def _make_directory(self) -> None:
        if self.private:
            private_directory(self.directory, check=self.check_directory)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the directory {self.directory}: {error.strerror or error}") from error
