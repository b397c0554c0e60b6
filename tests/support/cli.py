"""Run the ``backfill`` CLI as a user does: ``python -m backfill`` in its own process.

Every run is checked for a Python traceback on stdout and stderr: a CLI test that sees one
fails, whatever else it asserts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def error_lines(self) -> list[str]:
        """The ``Error:``/``Hint:`` lines the entry point prints for a failed command."""
        return [line for line in self.stderr.splitlines() if line.startswith(("Error:", "Hint:"))]


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text
        assert "Traceback" not in text, text


def cli_env(extra: Mapping[str, str] | None = None, *, drop: Sequence[str] = ()) -> dict[str, str]:
    """The test process's environment, importing this checkout, with wide, plain output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "COLUMNS": "200", "NO_COLOR": "1", "BACKFILL_DEBUG": "0"}
    for name in drop:
        env.pop(name, None)
    env.update(extra or {})
    return env


def command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "backfill", *args]


def start_backfill(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """A running ``backfill`` (no terminal on stdin), for tests that signal it mid-run."""
    return subprocess.Popen(command(args), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], args: Sequence[str], *, timeout: float = 180) -> CliResult:
    stdout, stderr = process.communicate(timeout=timeout)
    assert_no_traceback(stdout, stderr)
    return CliResult(tuple(args), process.returncode, stdout, stderr)


def run_backfill(args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 180) -> CliResult:
    """Run ``backfill ARGS`` to the end with no terminal on stdin; asserts there is no traceback."""
    return finish(start_backfill(args, cwd=cwd, env=env), args, timeout=timeout)
