"""Local files the CLI writes or reads back: a backup directory it cannot write, a garbled ledger,
stream-positions file or checkpoint. Each: one line naming the file (and line), exit 2, nothing
half-written. Where the check must come before any request, an unreachable endpoint proves it
(a command that got further would report the endpoint, exit 4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.cli.conftest import UNREACHABLE, Backfill
from tests.integration.migrate_helpers import seed, unseal

BAD_INPUT = 2


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Path:
    """A directory path this process cannot create files in (root ignores permission bits)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked / "backups"
    candidate = Path("/sys/dynamo-evolve-test-backups")  # sysfs: even root cannot mkdir here
    try:
        candidate.mkdir()
    except OSError:
        return candidate
    candidate.rmdir()
    pytest.skip("no unwritable directory available to root here")


def test_backup_dir_under_a_regular_file_is_refused_before_any_request(backfill, workdir):
    # given a regular file where the backup directory's parent should be
    (workdir / "notes.txt").write_text("not a directory")
    # when migrate is given a backup directory under it
    result = backfill("migrate", "--yes", "--backup-dir", str(workdir / "notes.txt" / "backups"),
                      env={"AWS_ENDPOINT_URL": UNREACHABLE})
    # then it names the directory, says why, exits 2 before talking to the endpoint
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert "notes.txt" in error and "not a directory" in error.lower()
    assert sorted(p.name for p in workdir.iterdir()) == ["notes.txt"]


def test_unwritable_backup_dir_is_refused_before_any_request(backfill, unwritable_dir):
    result = backfill("migrate", "--yes", "--backup-dir", str(unwritable_dir), env={"AWS_ENDPOINT_URL": UNREACHABLE})
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert str(unwritable_dir) in error


def migrated_run(dynamodb, live_settings, backfill: Backfill, runs: Path) -> dict:
    seed(dynamodb, live_settings, events=6, participants=12, malformed=0)
    result = backfill("migrate", "--yes", "--json", "--backup-dir", str(runs))
    assert result.exit_code == 0, result.output
    return result.json()


def test_a_garbled_ledger_line_is_named_by_file_and_line(dynamodb, live_settings, backfill, workdir):
    # given a migrated run whose ledger has a damaged line in the middle
    runs = workdir / "runs"
    report = migrated_run(dynamodb, live_settings, backfill, runs)
    ledger = runs / f"{report['run_id']}.ledger.jsonl"
    lines = ledger.read_text().splitlines()
    assert len(lines) >= 3
    lines[1] = lines[1][: len(lines[1]) // 2]
    ledger.write_text("\n".join(lines) + "\n")
    # when the run is restored, then its seal refuses the changed ledger, named, exit 2
    result = backfill("restore", report["backup_file"], "--yes", "--backup-dir", str(runs))
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT and ledger.name in error and "sealed" in error, result.output
    # and for a run from before sealing, the ledger file and line are named, exit 2, and nothing was restored
    unseal(runs, report["run_id"])
    result = backfill("restore", report["backup_file"], "--yes", "--backup-dir", str(runs))
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert ledger.name in error and "line 2" in error


@pytest.mark.parametrize(("content", "where"), [
    ('{"http://x": {"arn#shard": "1"},\n  "oops" 5\n}\n', "line 2"),
    ("[1, 2]\n", "line 1"),
    ('{"ENDPOINT": ["not", "a", "map"]}', "line 1"),
], ids=["broken json", "not an object", "wrong shape"])
def test_a_garbled_stream_positions_file_is_named(dynamodb, live_settings, backfill, workdir, content, where):
    # given a positions file that is not what the runner writes
    positions = workdir / "positions.json"
    positions.write_text(content.replace("ENDPOINT", live_settings.endpoint_url))
    # when the stream runner starts from it
    result = backfill("streams", "--positions", str(positions))
    # then it names the file and the line, exits 2, and leaves the file as it was
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert str(positions) in error and where in error
    assert positions.read_text() == content.replace("ENDPOINT", live_settings.endpoint_url)


def test_a_garbled_checkpoint_is_named_on_resume(dynamodb, live_settings, backfill, workdir):
    # given a run whose checkpoint file was damaged
    runs = workdir / "runs"
    report = migrated_run(dynamodb, live_settings, backfill, runs)
    checkpoint = runs / f"{report['run_id']}.checkpoint.json"
    checkpoint.write_text('{"format": "dynamo-evolve-migrate-checkpoint",\n "run_id": ')
    # when the run is resumed, then its seal refuses the changed checkpoint, named, exit 2
    result = backfill("migrate", "--yes", "--backup-dir", str(runs), "--resume", report["run_id"])
    assert result.exit_code == BAD_INPUT and checkpoint.name in result.stderr and "sealed" in result.stderr
    # and for a run from before sealing, the checkpoint and its line are named, exit 2
    unseal(runs, report["run_id"])
    result = backfill("migrate", "--yes", "--backup-dir", str(runs), "--resume", report["run_id"])
    assert result.exit_code == BAD_INPUT, result.output
    assert checkpoint.name in result.stderr and "line 2" in result.stderr
    assert json.loads((runs / f"{report['run_id']}.report.json").read_text())["run_id"] == report["run_id"]
