"""`migrate` without a terminal and without --yes refuses before anything; Ctrl-C mid-run stops
cleanly, keeps the checkpoint, prints the exact --resume command and exits 130; that command
finishes the run and verify passes."""

from __future__ import annotations

import shlex
import signal
import time

from backfill.run.checkpoint import load_checkpoint
from backfill.run.store import open_store
from tests.integration.cli.conftest import UNREACHABLE, target_env
from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import cli_env, finish, run_backfill, start_backfill

REFUSED = 3
INTERRUPTED = 130


def test_migrate_without_terminal_or_yes_refuses_before_any_request_or_file(backfill, workdir):
    # when migrate runs with no terminal, no --yes, and an endpoint nobody answers on
    result = backfill("migrate", "--backup-dir", str(workdir / "runs"), env={"AWS_ENDPOINT_URL": UNREACHABLE})
    # then it refuses (exit 3, not 4: it never tried the endpoint) and created nothing
    assert result.exit_code == REFUSED, result.output
    assert "--yes" in result.stderr and "Nothing was read or written" in result.stderr
    assert list(workdir.iterdir()) == []


def test_migrate_without_terminal_or_yes_leaves_table_and_directory_untouched(dynamodb, live_settings, backfill, workdir):
    seed(dynamodb, live_settings, events=10, participants=20, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    result = backfill("migrate")
    assert result.exit_code == REFUSED, result.output
    assert list(workdir.iterdir()) == [] and raw_items(dynamodb, live_settings.table("events")) == before


def test_ctrl_c_saves_the_checkpoint_prints_the_resume_command_and_exits_130(dynamodb, live_settings, workdir):
    # given legacy data and a migrate run slowed down by its rate limit
    seed(dynamodb, live_settings, events=120, participants=240, malformed=0)
    runs = workdir / "runs"
    env = cli_env(target_env(live_settings))
    process = start_backfill("migrate", "--yes", "--backup-dir", str(runs), "--writers", "2", "--rate-limit", "40",
                             cwd=workdir, env=env)
    # when it gets SIGINT (Ctrl-C) once 20 writes are in the ledger
    deadline = time.monotonic() + 120  # a guard against a hung child, not an assertion
    while time.monotonic() < deadline and process.poll() is None:
        ledgers = list(runs.glob("*.ledger.jsonl"))
        if ledgers and len(ledgers[0].read_text().splitlines()) >= 20:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    interrupted = finish(process)
    # then it exits 130 and prints the exact command that continues the run
    assert interrupted.exit_code == INTERRUPTED, interrupted.output
    [manifest] = runs.glob("*.manifest.json")
    run_id = manifest.name.removesuffix(".manifest.json")
    resume = [line.strip() for line in interrupted.stderr.splitlines() if line.strip().startswith("backfill migrate")]
    assert resume == [shlex.join(["backfill", "migrate", "--resume", run_id, "--writers", "2", "--rate-limit", "40.0",
                                  "--backup-dir", str(runs), "--yes"])], interrupted.stderr
    # and the checkpoint was saved, part way
    checkpoint = load_checkpoint(open_store(runs), f"{run_id}.checkpoint.json", run_id)
    assert checkpoint is not None and not checkpoint.completed and 0 < checkpoint.finished_items < 120
    # when the printed command is run
    resumed = run_backfill(*shlex.split(resume[0])[1:], "--json", cwd=workdir, env=env)
    # then the run completes from the checkpoint and verify passes
    assert resumed.exit_code == 0, resumed.output
    report = resumed.json()
    assert report["completed"] and report["resumed_after"] == checkpoint.finished_items and report["total"] == 120
    verified = run_backfill("verify", "--backup-dir", str(runs), cwd=workdir, env=env)
    assert verified.exit_code == 0, verified.output


def test_restore_that_would_pause_the_live_path_refuses_before_any_request(backfill, workdir):
    # given a restore asked to pause the deployed stream mappings (a change to production), with
    # no terminal, no --yes, and an endpoint nobody answers on
    result = backfill("restore", str(workdir / "runs" / "x.jsonl.gz"), "--pause-live-path",
                      env={"AWS_ENDPOINT_URL": UNREACHABLE})
    # then it refuses before pausing anything (exit 3, not 4: it never tried the endpoint)
    assert result.exit_code == REFUSED, result.output
    assert "--yes" in result.stderr and list(workdir.iterdir()) == []
