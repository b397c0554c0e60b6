"""Running the real CLI (`python -m backfill`) in its own process, as an operator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_backfill(*args: str, cwd: Path | None = None, timeout: float = 300) -> CliRun:
    """``python -m backfill ARGS`` with this checkout's code; asserts no Python traceback on stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "backfill", *args],
        cwd=cwd or REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
    run = CliRun(tuple(args), done.returncode, done.stdout, done.stderr)
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    return run
