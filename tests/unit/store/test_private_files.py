"""A local run store keeps its copies of the table private: files 0600 in a 0700 directory whatever
the umask, and a directory another user could write to is refused."""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from backfill.run.backup import write_text_atomic
from backfill.run.store import LocalStore, StoreError
from backfill.run.store.local import private_group
from tests.support.permissions import shared_group


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """Every file and directory would be world-writable if the store followed the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_files_and_logs_are_0600_in_a_0700_directory(tmp_path):
    # given a store whose directory does not exist yet
    store = LocalStore(tmp_path / "runs")
    # when it writes an object, a streamed object and a log
    store.write_bytes("r1.manifest.json", b"{}")
    with store.open_write("r1.jsonl.gz") as handle:
        handle.write(b"items")
    log = store.append_log("r1.ledger.jsonl")
    log.append("line")
    log.close()
    # then the directory is 0700 and every file 0600
    assert mode(tmp_path / "runs") == 0o700
    assert {p.name: mode(p) for p in (tmp_path / "runs").iterdir()} == {
        "r1.manifest.json": 0o600, "r1.jsonl.gz": 0o600, "r1.ledger.jsonl": 0o600}


def test_a_file_an_older_version_left_readable_becomes_private_when_written_again(tmp_path):
    # given a ledger and a manifest written 0644 (before this version)
    runs = tmp_path / "runs"
    runs.mkdir(mode=0o700)
    for name in ("r1.ledger.jsonl", "r1.manifest.json"):
        (runs / name).write_text("old\n")
        (runs / name).chmod(0o644)
    store = LocalStore(runs)
    # when the run appends to the ledger and replaces the manifest
    store.append_log("r1.ledger.jsonl").append("new")
    store.write_bytes("r1.manifest.json", b"{}")
    # then both are 0600 and the ledger kept its lines
    assert mode(runs / "r1.ledger.jsonl") == mode(runs / "r1.manifest.json") == 0o600
    assert (runs / "r1.ledger.jsonl").read_text() == "old\nnew\n"


@pytest.mark.parametrize(("directory_mode", "who"), [(0o770, "group"), (0o757, "others"), (0o1777, "group and others")])
def test_a_directory_others_can_write_to_is_refused(tmp_path, directory_mode, who):
    # given a run store directory another user could write to (0o1777 is /tmp's mode), its group shared
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(directory_mode)
    shared_group(runs)
    # when the store writes, then it refuses, naming the directory, who can write and the fix
    with pytest.raises(StoreError) as refused:
        LocalStore(runs).write_bytes("r1.manifest.json", b"{}")
    message = str(refused.value)
    assert str(runs) in message and f"writable by {who}" in message and f"chmod 700 {runs}" in message
    assert list(runs.iterdir()) == []


def test_a_group_writable_directory_of_the_owners_own_group_is_accepted(tmp_path):
    # given a directory made under umask 002 (Debian/Ubuntu users): group-writable, the group the
    # owner's private group (named after them, no other member)
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o775)
    owner = pwd.getpwuid(os.getuid())
    if not private_group(os.getuid(), runs.stat().st_gid):
        pytest.skip(f"{owner.pw_name}'s group here is not a private group")
    # when the store writes, then it is accepted
    LocalStore(runs).write_bytes("r1.manifest.json", b"{}")
    assert mode(runs / "r1.manifest.json") == 0o600


def test_a_readable_directory_is_accepted_its_files_still_private(tmp_path):
    # given an existing 0755 directory (readable, not writable, by others)
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o755)
    # when the store writes, then the file is private and the directory left as it was
    LocalStore(runs).write_bytes("r1.manifest.json", b"{}")
    assert mode(runs / "r1.manifest.json") == 0o600 and mode(runs) == 0o755


def test_a_project_file_written_not_private_keeps_its_mode(tmp_path):
    # given a config file 0644 (not run data: stream-arns rewrites .chalice/config.json)
    config = tmp_path / "config.json"
    config.write_text("{}")
    config.chmod(0o644)
    # when it is rewritten not private, then its mode is unchanged
    write_text_atomic(config, '{"a": 1}', private=False)
    assert mode(config) == 0o644 and config.read_text() == '{"a": 1}'
    # and a positions file written private in a shared directory is 0600, the directory untouched
    tmp_path.chmod(0o777)
    write_text_atomic(tmp_path / "positions.json", "{}")
    assert mode(tmp_path / "positions.json") == 0o600 and mode(tmp_path) == 0o777
