"""Running the real CLI (`python -m backfill`) in its own process, as an operator would.

Every run is checked for a Python traceback on stdout and stderr: a CLI test that sees one
fails, whatever else it asserts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
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

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def errors(self) -> list[str]:
        """The ``Error: ...`` lines the CLI printed on stderr."""
        return [line for line in self.stderr.splitlines() if line.startswith("Error:")]


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


def cli_env(extra: Mapping[str, str] | None = None, *, drop: Sequence[str] = ()) -> dict[str, str]:
    """The test process's environment, importing this checkout, with wide plain output."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}
    env.pop("BACKFILL_DEBUG", None)
    for name in drop:
        env.pop(name, None)
    env.update(extra or {})
    return env


# Ctrl-C reaches the CLI as it does when an operator starts it. A test run started in the
# background by a non-interactive shell (`cmd &`, nohup) inherits SIGINT ignored, an ignored signal
# stays ignored through exec, and Python then installs no KeyboardInterrupt handler in the CLI. A
# handled signal is reset to the default on exec, so this process handles it, as Python does when
# started from a terminal. (Not a preexec_fn in each child: that forks the whole test process, with
# its server threads, which Python documents as unsafe, and costs ~15 ms of CPU per spawn.)
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


# Commands of the local tooling (``python -m localdev``, not in the wheel), run like backfill's.
LOCALDEV_COMMANDS = frozenset({"seed"})


def start_backfill(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m backfill ARGS`` running (no terminal on stdin), for tests that signal it or run many;
    ``python -m localdev ARGS`` for a command of the local tooling (``seed``)."""
    program = "localdev" if args and args[0] in LOCALDEV_COMMANDS else "backfill"
    return subprocess.Popen(
        [sys.executable, "-m", program, *args], cwd=cwd or REPO, env=dict(env or cli_env()),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(process: subprocess.Popen[str], *, timeout: float = 300) -> CliRun:
    """Wait for a started run; asserts no Python traceback on stdout or stderr."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    args = tuple(str(a) for a in process.args[3:])  # type: ignore[index]
    run = CliRun(args, process.returncode, stdout, stderr)
    assert_no_traceback(run.stdout, run.stderr)
    return run


def run_backfill(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                 timeout: float = 300) -> CliRun:
    """``python -m backfill ARGS`` with this checkout's code; asserts no Python traceback."""
    return finish(start_backfill(*args, cwd=cwd, env=env), timeout=timeout)
