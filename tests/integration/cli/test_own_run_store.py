"""Every command that reads or writes a local run store checks first that it is the caller's own
(issue 32 findings 2, 4, 5): an open directory (0777), one owned by another user, or a planted
symlink ends in one ``Error:`` line and exit 2 before any request, the table unchanged (raw scan)
and nothing outside the store touched."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.conftest import UNREACHABLE
from tests.integration.migrate_helpers import raw_items, seed

BAD_INPUT = 2
RUN = "own"
OTHER_UID = 65534  # nobody


@pytest.fixture
def migrated(dynamodb, live_settings, backfill, workdir) -> tuple[Path, dict[str, Any]]:
    """A migrated run in ``workdir/runs`` and the table's raw items after it."""
    seed(dynamodb, live_settings, events=10, participants=15, malformed=0)
    runs = workdir / "runs"
    result = backfill("migrate", "--yes", "--run-id", RUN, "--backup-dir", str(runs))
    assert result.exit_code == 0, result.output
    return runs, raw_items(dynamodb, live_settings.table("events"))


def refused(result: Any, *words: str) -> str:
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    for word in words:
        assert word in error, error
    return error


def open_up(runs: Path) -> None:
    runs.chmod(0o777)


def give_away(runs: Path) -> None:
    os.chown(runs, OTHER_UID, -1)


def test_restore_from_a_store_that_is_not_ours_writes_nothing(dynamodb, live_settings, backfill, migrated):
    runs, before = migrated
    for spoil, words in ((open_up, ("writable by", "others")), (give_away, ("belongs to", "uid 65534"))):
        for argv in (("--run", RUN), (str(runs / f"{RUN}.jsonl.gz"), "--to-table", "copy", "--create-table")):
            spoil(runs)
            result = backfill("restore", *argv, "--yes", "--backup-dir", str(runs))
            refused(result, str(runs), *words)
            assert raw_items(dynamodb, live_settings.table("events")) == before
            assert "copy" not in dynamodb.list_tables()["TableNames"]
            os.chown(runs, os.geteuid(), -1)  # back to ours for the next case
            runs.chmod(0o700)


COMMANDS = [
    ("verify", "--run", RUN),
    ("backups", "prune", "--older-than", "0", "--yes"),
    ("backups",),
    ("control", RUN, "pause", "--no-wait"),
    ("migrate", "--yes", "--run-id", RUN),  # a resume of the named run
]


def test_every_command_refuses_an_open_store_before_any_request(backfill, migrated):
    runs, _before = migrated
    open_up(runs)
    files = sorted(p.name for p in runs.iterdir())
    for argv in COMMANDS:
        result = backfill(*argv, "--backup-dir", str(runs), env={"AWS_ENDPOINT_URL": UNREACHABLE})
        refused(result, str(runs), "writable by")
        assert sorted(p.name for p in runs.iterdir()) == files, argv


def test_stream_positions_in_an_open_directory_are_refused(backfill, workdir):
    shared = workdir / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = backfill("streams", "--positions", str(shared / "positions.json"), env={"AWS_ENDPOINT_URL": UNREACHABLE})
    refused(result, str(shared), "writable by")


def test_a_planted_ledger_link_is_refused_and_its_target_untouched(dynamodb, live_settings, backfill, migrated,
                                                                   tmp_path):
    runs, before = migrated
    outside = tmp_path / "outside.jsonl"
    ledger = runs / f"{RUN}.ledger.jsonl"
    outside.write_bytes(ledger.read_bytes())
    ledger.unlink()
    ledger.symlink_to(outside)
    kept = outside.read_bytes()
    result = backfill("restore", "--run", RUN, "--yes", "--backup-dir", str(runs))
    refused(result, str(ledger), "symbolic link")
    assert raw_items(dynamodb, live_settings.table("events")) == before
    assert outside.read_bytes() == kept
