"""A run store is the tool's own (issue 32 findings 4 and 5): a directory owned by another user or
given away by a POSIX ACL is refused, missing parents are made 0700, and a symlink planted in the
store is refused, naming it, instead of followed (nothing outside the store is read or touched)."""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from backfill.run.store import LocalStore, StoreError

OTHER_UID = 65534  # nobody


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    path = tmp_path / "runs"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the store that a planted link points at."""
    path = tmp_path / "elsewhere.txt"
    path.write_text("not the tool's\n")
    return path


def acl(*entries: tuple[int, int, int]) -> bytes:
    """A POSIX ACL in the kernel's xattr format (version 2; tag, perm, id per entry)."""
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, uid) for tag, perm, uid in entries)


def test_a_directory_owned_by_another_user_is_refused(runs):
    os.chown(runs, OTHER_UID, -1)
    with pytest.raises(StoreError, match=r"belongs to .*uid 65534.*not to you"):
        LocalStore(runs).names()


def test_a_directory_an_acl_gives_to_another_user_is_refused(runs):
    # given mode 0700 but an ACL entry giving uid 1000 rwx (mask rwx)
    everyone = 0xFFFFFFFF
    try:
        os.setxattr(runs, "system.posix_acl_access",
                    acl((0x01, 7, everyone), (0x02, 7, 1000), (0x04, 0, everyone), (0x10, 7, everyone), (0x20, 0, everyone)))
    except OSError as error:
        pytest.skip(f"no POSIX ACLs on this file system: {error}")
    with pytest.raises(StoreError, match="POSIX ACL"):
        LocalStore(runs).exists("r.manifest.json")


def test_missing_parents_are_made_0700(tmp_path):
    LocalStore(tmp_path / "a" / "b" / "runs").write_bytes("r.report.json", b"{}")
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/runs")] == [0o700, 0o700, 0o700]


def test_a_planted_temporary_name_is_not_followed(runs, outside):
    # given the fixed temporary name an older version used, linked to a file outside the store
    (runs / "r.checkpoint.json.tmp").symlink_to(outside)
    LocalStore(runs).write_bytes("r.checkpoint.json", b"{}")
    assert outside.read_text() == "not the tool's\n"
    assert (runs / "r.checkpoint.json").read_bytes() == b"{}" and mode(runs / "r.checkpoint.json") == 0o600


def test_a_planted_ledger_link_is_refused_when_appended_to(runs, outside):
    (runs / "r.ledger.jsonl").symlink_to(outside)
    with pytest.raises(StoreError, match=r"r\.ledger\.jsonl is a symbolic link"):
        LocalStore(runs).append_log("r.ledger.jsonl")
    assert outside.read_text() == "not the tool's\n"


@pytest.mark.parametrize("read", ["read_bytes", "read_log", "names"])
def test_a_planted_link_is_refused_when_read(runs, outside, read):
    (runs / "r.manifest.json").symlink_to(outside)
    store = LocalStore(runs)
    with pytest.raises(StoreError, match=r"r\.manifest\.json is a symbolic link"):
        if read == "names":
            store.names(".manifest.json")
        elif read == "read_log":
            list(store.read_log("r.manifest.json"))
        else:
            store.read_bytes("r.manifest.json")
