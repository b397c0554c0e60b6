"""``--processes N``: one run split over N child processes of this CLI on one machine.

One Python process is bound by one core; a run named with ``--run-id`` is already split into
segments that separate workers do (``--segment K --total-segments N``) and that resume from the
run store. The parent starts N children of the same CLI (``sys.executable -m backfill``), one
per segment, with their output in one log file each, watches the run store for progress, and
combines what they leave there. Pure parts (argument building, plan combination, exit codes)
are here beside the process handling so they are tested without a server.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from backfill.errors import ExitCode
from backfill.migrate.plan import Plan
from backfill.migrate.tally import Tally
from backfill.store import RunStore

MAX_PROCESSES = 256  # bounded like the other numeric options: a typo must not fork thousands
PLAN_SUFFIX = ".plan.json"  # a prepared segment's plan (tally and sample diffs), beside its backup
LOG_SUFFIX = ".log"
POLL_S = 0.5

# Worst first: what the operator must fix outranks a refusal or an interruption, which outrank
# items that failed; a code outside the documented ones counts as unexpected (5).
_SEVERITY = (ExitCode.INTERNAL, ExitCode.TARGET, ExitCode.BAD_INPUT, ExitCode.REFUSED,
             ExitCode.INTERRUPTED, ExitCode.ITEMS_FAILED, ExitCode.OK)


def child_exit_code(returncode: int) -> int:
    """A child's status as a documented exit code: killed by a signal counts as interrupted (its
    checkpoint is the last one saved, so the run resumes); an undocumented code as unexpected."""
    if returncode < 0:
        return ExitCode.INTERRUPTED
    return returncode if returncode in set(_SEVERITY) else ExitCode.INTERNAL


def worst_exit_code(codes: Iterable[int]) -> int:
    """The exit code of the whole run from its children's (0 when there is none)."""
    found = {child_exit_code(code) for code in codes}
    return next((int(code) for code in _SEVERITY if code in found), ExitCode.OK)


def describe_returncode(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def given_options(ctx: click.Context, skip: Iterable[str] = ()) -> list[str]:
    """The options of ``ctx``'s command that were typed on the command line, as words again
    (values from the environment or defaults are left out: a child inherits the environment)."""
    skipped = set(skip)
    words: list[str] = []
    for parameter in ctx.command.params:
        name = parameter.name
        if not isinstance(parameter, click.Option) or name is None or name in skipped:
            continue
        if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[name]
        flag = parameter.opts[0]
        if parameter.is_flag:
            words += [flag] if value else []
        else:
            words += [flag, str(value)]
    return words


def child_argv(command: str, options: Sequence[str], *, run_id: str, segment: int, total: int,
               rate_limit: float = 0.0, extra: Sequence[str] = ()) -> list[str]:
    """The command line of the child doing ``segment`` of ``total`` of run ``run_id``. A rate
    limit is the whole run's: each child gets its share."""
    words = [sys.executable, "-m", "backfill", command, *options, "--run-id", run_id,
             "--segment", str(segment), "--total-segments", str(total)]
    if rate_limit > 0:
        words += ["--rate-limit", repr(rate_limit / total)]
    return words + list(extra)


def plan_state(plan: Plan) -> dict[str, Any]:
    """What a prepared segment leaves for the parent: its plan's tally and sample diffs."""
    return {"tally": plan.tally.to_dict(), "samples": plan.samples, "sample_limit": plan.sample_limit}


def combine_plans(states: Sequence[dict[str, Any]]) -> Plan:
    """One plan for the whole run from its segments' ``plan_state``s (counts summed, lists joined,
    sample diffs up to the limit, segment order)."""
    limit = max((int(state.get("sample_limit", 3)) for state in states), default=3)
    plan = Plan(sample_limit=limit)
    for state in states:
        plan.tally.merge(Tally.from_dict(state["tally"]))
        plan.samples.extend(state["samples"][: max(0, limit - len(plan.samples))])
    return plan


def log_directory(store: RunStore) -> Path:
    """Where the children's logs go: the run store's directory, or a local temporary one for s3://."""
    directory = getattr(store, "directory", None)
    if isinstance(directory, Path):
        return directory
    return Path(tempfile.gettempdir()) / "backfill-logs"


@dataclass
class Child:
    segment: int
    argv: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    returncode: int | None = None

    @property
    def exit_code(self) -> int:
        return child_exit_code(self.returncode if self.returncode is not None else ExitCode.INTERNAL)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def run_children(children: Sequence[Child], *, on_poll: Callable[[], None] = lambda: None,
                 env: dict[str, str] | None = None) -> bool:
    """Start every child (own session, output appended to its log), call ``on_poll`` while they
    run, and wait for all of them. Ctrl-C forwards SIGINT to those still running and waits for
    them to save their checkpoints; returns True when that happened."""
    for child in children:
        child.log.parent.mkdir(parents=True, exist_ok=True)
        with child.log.open("ab") as log:
            log.write(f"$ {shlex.join(child.argv)}\n".encode())
            log.flush()
            child.process = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             env=env, start_new_session=True)
    interrupted = False
    while True:
        try:
            running = [c for c in children if c.process is not None and c.process.poll() is None]
            if not running:
                break
            on_poll()
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            if interrupted:  # once: a second SIGINT could cut a child's checkpoint save short
                continue
            interrupted = True
            for child in children:
                if child.process is not None and child.process.poll() is None:
                    os.kill(child.process.pid, signal.SIGINT)
    for child in children:
        if child.process is not None:
            child.returncode = child.process.wait()
    on_poll()
    return interrupted
