"""`migrate --hook CMD`: a small script hook records every event it is given (JSON on stdin);
a failing hook is logged, or stops the run with --hook-fails-run; a hook that hangs is killed
at --hook-timeout."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.migrate_helpers import raw_items, seed
from tests.support.cli import finish, run_backfill, start_backfill

REFUSED = 3



def recording_hook(tmp_path: Path) -> tuple[str, Path]:
    """A hook script that appends the event named in its environment and its stdin as one line."""
    log = tmp_path / "hook.log"
    script = tmp_path / "hook.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s " "$BACKFILL_HOOK_EVENT" >> {log}\ncat >> {log}\necho >> {log}\n')
    return f"sh {script}", log


def events(log: Path) -> list[tuple[str, dict]]:
    lines = [line.split(" ", 1) for line in log.read_text().splitlines() if line]
    return [(name, json.loads(body)) for name, body in lines]


def test_hooks_see_start_pause_resume_segment_done_and_finish(dynamodb, live_settings, tmp_path, env):
    # given legacy rows, a recording hook and a slowed run
    seed(dynamodb, live_settings, events=40, participants=40, malformed=0)
    hook, log = recording_hook(tmp_path)
    runs = str(tmp_path / "runs")
    process = start_backfill("migrate", "--yes", "--run-id", "h1", "--rate-limit", "4", "--writers", "2",
                             "--hook", hook, "--backup-dir", runs, env=env)
    # when it is paused and resumed from another process while it writes
    deadline = time.monotonic() + 90  # a guard against a hung run
    while not (log.exists() and "start" in log.read_text()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    paused = run_backfill("control", "h1", "pause", "--backup-dir", runs, env=env)
    assert paused.exit_code == 0 and "Acknowledged" in paused.stderr, paused.output
    resumed = run_backfill("control", "h1", "resume", "--backup-dir", runs, env=env)
    assert resumed.exit_code == 0, resumed.output + finish(process).output
    done = finish(process)
    assert done.exit_code == 0, done.output
    # then the hook saw each event once, in order, each with the run and the worker on stdin
    seen = events(log)
    assert [name for name, _ in seen] == ["start", "pause", "resume", "segment_done", "finish"]
    assert all(body["event"] == name and body["run"] == "h1" for name, body in seen)
    assert seen[0][1]["items"] == 40 and seen[-1][1]["exit_code"] == 0
    assert seen[1][1]["by"].endswith(": pause")


def test_a_failing_hook_is_logged_or_stops_the_run(dynamodb, live_settings, tmp_path, env):
    seed(dynamodb, live_settings, events=10, participants=10, malformed=0)
    before = raw_items(dynamodb, live_settings.table("events"))
    # given a hook that fails, with --hook-fails-run: the run stops at start, before any write
    stopped = run_backfill("migrate", "--yes", "--hook", "sh -c 'echo no way >&2; exit 4'", "--hook-fails-run",
                           "--backup-dir", str(tmp_path / "a"), env=env)
    assert stopped.exit_code == REFUSED, stopped.output
    [line] = stopped.errors()
    assert "on start" in line and "exit code 4: no way" in line
    assert raw_items(dynamodb, live_settings.table("events")) == before
    # given the same hook without the flag: logged, the run goes on and finishes
    logged = run_backfill("migrate", "--yes", "--hook", "sh -c 'exit 4'", "--backup-dir", str(tmp_path / "b"),
                          env=env)
    assert logged.exit_code == 0, logged.output
    assert "on start: exit code 4" in logged.stderr and "on finish: exit code 4" in logged.stderr


def test_a_hook_that_hangs_is_killed_at_the_timeout(dynamodb, live_settings, tmp_path, env):
    seed(dynamodb, live_settings, events=5, participants=5, malformed=0)
    done = run_backfill("migrate", "--yes", "--hook", "sleep 60", "--hook-timeout", "0.5",
                        "--backup-dir", str(tmp_path), env=env, timeout=40)  # 3 events x 60 s would not fit
    assert done.exit_code == 0, done.output
    assert done.stderr.count("timed out after 0.5 s (killed)") == 3  # start, segment_done, finish


@pytest.mark.parametrize(("args", "named"), [
    (["--hook-fails-run"], "--hook-fails-run"),
    (["--hook-timeout", "3"], "--hook-timeout"),
    (["--dry-run", "--hook", "true"], "--hook"),
])
def test_hook_options_without_a_hook_are_refused(tmp_path, env, args, named):
    refused = run_backfill("migrate", "--yes", *args, "--backup-dir", str(tmp_path), env=env)
    assert refused.exit_code == 2 and len(refused.errors()) == 1 and named in refused.errors()[0], refused.output
    assert list(tmp_path.iterdir()) == []


def test_a_hook_gets_the_documented_environment_and_no_values_unless_asked(dynamodb, live_settings, tmp_path, env):
    """Issue 32 finding 7: the hook inherited AWS_SECRET_ACCESS_KEY and its payload quoted item values."""
    # given a row whose status (refused by the rule) carries a marker value, and a secret in the environment
    marker = "MARKER-hook-7c1e"
    seed(dynamodb, live_settings, events=3, participants=3, malformed=0)
    table = live_settings.table("events")
    refused = sorted(raw_items(dynamodb, table))[0]
    dynamodb.update_item(TableName=table, Key={"eventId": {"S": refused}}, UpdateExpression="SET #s = :v",
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":v": {"S": marker}})
    secret = {**env, "AWS_SECRET_ACCESS_KEY": "secret-7c1e", "AWS_ACCESS_KEY_ID": "testing", "OTHER": "x"}
    script = tmp_path / "hook.sh"
    script.write_text(f'#!/bin/sh\nenv > {tmp_path}/env-$BACKFILL_HOOK_EVENT\ncat > {tmp_path}/in-$BACKFILL_HOOK_EVENT\n')
    # when migrate runs with the hook (the row is refused: exit 1)
    done = run_backfill("migrate", "--yes", "--hook", f"sh {script}", "--backup-dir", str(tmp_path / "a"), env=secret)
    assert done.exit_code == 1, done.output
    # then the hook's environment is the documented one, and its payload names the refused row, not the value
    names = {line.split("=", 1)[0] for line in (tmp_path / "env-segment_done").read_text().splitlines() if "=" in line}
    assert "AWS_SECRET_ACCESS_KEY" not in names and "AWS_ACCESS_KEY_ID" not in names and "OTHER" not in names
    assert names - {"PWD", "SHLVL", "_", "OLDPWD"} <= {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
                                                       "USER", "LOGNAME", "BACKFILL_HOOK_EVENT"}
    payload = (tmp_path / "in-segment_done").read_text()
    assert refused in payload and marker not in payload
    # when the operator passes the credentials by name and asks for values
    shown = run_backfill("migrate", "--yes", "--hook", f"sh {script}", "--hook-env", "AWS_SECRET_ACCESS_KEY",
                         "--show-values", "--backup-dir", str(tmp_path / "b"), env=secret)
    assert shown.exit_code == 1, shown.output
    assert "AWS_SECRET_ACCESS_KEY=secret-7c1e" in (tmp_path / "env-segment_done").read_text()
    assert marker in (tmp_path / "in-segment_done").read_text()
