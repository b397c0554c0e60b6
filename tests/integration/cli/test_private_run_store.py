"""A real migrate and restore under a permissive umask: every file the run leaves (backup, manifest,
ledger, checkpoint, report) is 0600 in a 0700 directory; a run store others can write to is refused
before any request."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli.conftest import UNREACHABLE
from tests.integration.migrate_helpers import seed
from tests.support.permissions import shared_group

BAD_INPUT = 2


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)  # inherited by the CLI's process
    yield
    os.umask(old)


def test_a_run_leaves_only_private_files(dynamodb, live_settings, backfill, workdir, permissive_umask):
    # given legacy data and a run store that does not exist yet
    seed(dynamodb, live_settings, events=5, participants=10, malformed=0)
    runs = workdir / "runs"
    # when a migration runs and is restored, under umask 000
    migrated = backfill("migrate", "--yes", "--json", "--backup-dir", str(runs))
    assert migrated.exit_code == 0, migrated.output
    restored = backfill("restore", migrated.json()["backup_file"], "--yes", "--backup-dir", str(runs))
    assert restored.exit_code == 0, restored.output
    # then the directory is 0700 and every file in it 0600, the ledger and checkpoint among them
    files = {p.name: mode(p) for p in runs.iterdir()}
    run_id = migrated.json()["run_id"]
    assert {f"{run_id}.jsonl.gz", f"{run_id}.manifest.json", f"{run_id}.ledger.jsonl",
            f"{run_id}.report.json"} <= set(files)
    assert mode(runs) == 0o700
    assert set(files.values()) == {0o600}, files


def test_a_run_store_others_can_write_to_is_refused_before_any_request(backfill, workdir):
    # given a run store directory writable by a group other users are in
    runs = workdir / "runs"
    runs.mkdir()
    runs.chmod(0o775)
    shared_group(runs)
    # when migrate is pointed at it (an unreachable endpoint: a request would fail with exit 4)
    result = backfill("migrate", "--yes", "--backup-dir", str(runs), env={"AWS_ENDPOINT_URL": UNREACHABLE})
    # then one line names the directory and the fix, exit 2, nothing written
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert str(runs) in error and "writable by group" in error and "chmod 700" in error
    assert list(runs.iterdir()) == []
