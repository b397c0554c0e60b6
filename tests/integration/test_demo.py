"""`python -m demo` end to end, as `make demo` runs it (small data set to keep the suite quick)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.endpoint import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
STEPS = ("setup", "dry run", "migrate", "verify", "live writes", "restore", "round trip")


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m demo`` in a fresh process with no AWS configuration at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["COLUMNS"] = "200"  # one line per summary row
    return subprocess.run([sys.executable, "-m", "demo", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def test_demo_tells_the_whole_story_and_passes(endpoint_url, tmp_path):
    # given a running endpoint (the session's, as a user passes LocalStack's URL)
    # when the demo runs there
    result = _demo("--events", "120", "--participants", "400", "--live-writes", "60",
                   "--backup-dir", str(tmp_path), "--endpoint", endpoint_url)
    # then it exits 0 with every step of the story marked PASS in the summary
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout[result.stdout.index("Demo summary"):]
    for step in STEPS:
        row = next(line for line in summary.splitlines() if line.strip("│ ").startswith(step))
        assert "PASS" in row, row
    assert "PASS: every step passed (exit code 0)" in result.stdout
    # and it kept its backup, ledger and reports where it was told to
    assert list(tmp_path.glob("*.jsonl.gz")) and list(tmp_path.glob("*.restore-report.json"))


def test_demo_fails_loudly_on_an_endpoint_that_does_not_answer(tmp_path):
    # given a URL where nothing listens (a port just freed)
    url = f"http://127.0.0.1:{free_port()}"
    # when the demo is told to run there
    result = _demo("--events", "5", "--backup-dir", str(tmp_path), "--endpoint", url)
    # then it says so in one line and exits 1, without running a step on another endpoint
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL: endpoint {url} does not answer" in result.stdout and "Traceback" not in result.stderr
    assert "setup" not in result.stdout


def test_demo_refuses_an_unknown_endpoint_name(tmp_path):
    result = _demo("--backup-dir", str(tmp_path), "--endpoint", "dynamo-local")
    assert result.returncode == 2 and "unknown endpoint 'dynamo-local'" in result.stderr
