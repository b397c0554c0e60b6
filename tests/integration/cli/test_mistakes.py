"""The operator's mistakes, command by command: each is exactly one ``Error:`` line (an optional
``Hint:`` line after it, last), its documented exit code, and no wait beyond the 10 s budget.

The budget is behaviour under test (an operator waits for it), not a speed figure."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.cli.conftest import UNREACHABLE
from tests.support.cli import REPO

BAD_INPUT, TARGET = 2, 4
BUDGET_SECONDS = 10
CHALICE = ["--chalice-config", str(REPO / ".chalice" / "config.json")]

MISTAKES = {
    # name: (arguments, extra environment, exit code, words the Error line must hold)
    "misspelled stage": (["migrate", "--dry-run", "--stage", "prd", *CHALICE], {}, BAD_INPUT, ["'prd'", "prod"]),
    "live without stage": (["live", "status"], {}, BAD_INPUT, ["--stage"]),
    "table missing": (["verify", "--no-snapshot"], {"EVENTS_TABLE": "no-such-table"}, TARGET,
                      ["no-such-table", "does not exist"]),
    "other region": (["migrate", "--dry-run", "--region", "eu-west-3"], {}, TARGET, ["eu-west-3"]),
    "endpoint down": (["failures"], {"AWS_ENDPOINT_URL": UNREACHABLE}, TARGET, ["127.0.0.1:9"]),
    "bad option value": (["migrate", "--dry-run", "--writers", "0"], {}, BAD_INPUT, ["--writers"]),
    "renamed option": (["migrate", "--dry-run", "--workers", "2"], {}, BAD_INPUT, ["--workers"]),
    "restore file missing": (["restore", "nope.jsonl.gz", "--yes"], {}, BAD_INPUT, ["nope", "nothing was written"]),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_is_one_error_line_with_its_exit_code_in_time(dynamodb, backfill, mistake, workdir: Path):
    args, env, code, words = MISTAKES[mistake]
    # when the command is run with the mistake
    started = time.monotonic()
    result = backfill(*args, env=env)
    took = time.monotonic() - started
    # then exactly one Error line names it, with its exit code, and the hint (if any) comes last
    errors = result.errors()
    assert len(errors) == 1, result.output
    assert result.exit_code == code, result.output
    assert all(word in errors[0] for word in words), errors[0]
    lines = result.stderr.rstrip().splitlines()
    assert lines[-1] == errors[0] or (lines[-1].startswith("Hint:") and lines[-2] == errors[0]), result.stderr
    assert took < BUDGET_SECONDS, (took, result.output)
