"""`python -m demo` end to end, as `make demo` runs it (small data set to keep the suite quick)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
STEPS = ("setup", "dry run", "migrate", "verify", "live writes", "restore", "round trip")


def test_demo_tells_the_whole_story_and_passes(tmp_path):
    # given a fresh process with no AWS configuration at all
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["COLUMNS"] = "200"  # one line per summary row
    # when the demo runs on its embedded endpoint
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--events", "120", "--participants", "400", "--live-writes", "60",
         "--backup-dir", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    # then it exits 0 with every step of the story marked PASS in the summary
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout[result.stdout.index("Demo summary"):]
    for step in STEPS:
        row = next(line for line in summary.splitlines() if line.strip("│ ").startswith(step))
        assert "PASS" in row, row
    assert "PASS: every step passed (exit code 0)" in result.stdout
    # and it kept its backup, ledger and reports where it was told to
    assert list(tmp_path.glob("*.jsonl.gz")) and list(tmp_path.glob("*.restore-report.json"))
