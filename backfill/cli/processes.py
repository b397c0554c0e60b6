"""``--processes N``: one run split over N child processes of this CLI on one machine.

One Python process is bound by one core; a run named with ``--run-id`` is already split into
segments that separate workers do (``--segment K --total-segments N``) and that resume from the
run store. The parent starts N children of the same CLI (``sys.executable -m backfill``), one
per segment, with their output in one log file each, watches the run store for progress, and
combines what they leave there. Pure parts (argument building, plan combination, exit codes)
are here beside the process handling so they are tested without a server.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich.markup import escape
from rich.progress import Progress

from backfill.console import err, progress_columns
from backfill.errors import ExitCode
from backfill.run.names import LOG_SUFFIX as LOG_SUFFIX
from backfill.run.names import PLAN_SUFFIX as PLAN_SUFFIX
from backfill.run.store import RunStore
from backfill.run.store.local import open_private, private_directory

MAX_PROCESSES = 256  # bounded like the other numeric options: a typo must not fork thousands
GO = "write"  # the line a --parent-confirms child waits for before its first write
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
        elif parameter.multiple:
            words += [word for one in value for word in (flag, str(one))]
        else:
            words += [flag, str(value)]
    return words


def backfill_argv(command: str, words: Sequence[str]) -> list[str]:
    """``backfill COMMAND WORDS`` as a child process of this interpreter."""
    return [sys.executable, "-m", "backfill", command, *words]


def child_argv(command: str, options: Sequence[str], *, run_id: str, segment: int, total: int,
               rate_limit: float = 0.0, extra: Sequence[str] = ()) -> list[str]:
    """The command line of the child doing ``segment`` of ``total`` of run ``run_id``. A rate
    limit is the whole run's: each child gets its share."""
    words = backfill_argv(command, [*options, "--run-id", run_id, "--segment", str(segment),
                                    "--total-segments", str(total)])
    if rate_limit > 0:
        words += ["--rate-limit", repr(rate_limit / total)]
    return words + list(extra)


def log_directory(store: RunStore) -> Path:
    """Where the children's logs go: the run store's directory, or a local temporary one for s3://."""
    directory = getattr(store, "directory", None)
    if isinstance(directory, Path):
        return directory
    return Path(tempfile.gettempdir()) / f"backfill-logs-{os.getuid()}"  # one per user: made 0700


@dataclass
class Child:
    segment: int
    argv: list[str]
    log: Path  # stderr (and stdout unless ``out``), appended
    out: Path | None = None  # stdout alone (a child's --json), replaced
    process: subprocess.Popen[bytes] | None = None
    returncode: int | None = None

    @property
    def exit_code(self) -> int:
        return child_exit_code(self.returncode if self.returncode is not None else ExitCode.INTERNAL)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, env: dict[str, str] | None, *, stdin_pipe: bool = False) -> None:
        private_directory(self.log.parent)  # a child's output may show items: private like the run store
        with open(open_private(self.log, os.O_WRONLY | os.O_APPEND), "ab") as log:
            log.write(f"$ {shlex.join(self.argv)}\n".encode())
            log.flush()
            out = open(open_private(self.out, os.O_WRONLY | os.O_TRUNC), "wb") if self.out is not None else None  # noqa: SIM115 - closed below
            try:
                self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                                                stdout=out or log, stderr=log, env=env, start_new_session=True)
            finally:
                if out is not None:
                    out.close()

    def tell(self, word: str) -> None:
        """Send ``word`` as one line on the child's stdin and close it (the child reads one line)."""
        if self.process is None or self.process.stdin is None or self.process.stdin.closed:
            return
        try:
            self.process.stdin.write(f"{word}\n".encode())
            self.process.stdin.close()
        except OSError:  # it has exited already: its exit code tells why
            pass

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _forward_interrupt(children: Sequence[Child], already: bool) -> bool:
    """Ctrl-C in the parent: SIGINT to every running child, once (a second SIGINT could cut a
    child's checkpoint save short). Returns True: the run is now interrupted."""
    if not already:
        for child in children:
            if child.running and child.process is not None:
                os.kill(child.process.pid, signal.SIGINT)
    return True


def run_children(children: Sequence[Child], *, on_poll: Callable[[], None] = lambda: None,
                 env: dict[str, str] | None = None, limit: int | None = None) -> bool:
    """Run every child (own session, output in its log), at most ``limit`` at a time, calling
    ``on_poll`` meanwhile; wait for all of them. Ctrl-C forwards SIGINT (once) to those running,
    starts no other, and waits for them to save their checkpoints; returns True when that happened."""
    waiting = list(children)
    limit = limit or len(waiting)
    interrupted = False
    while True:
        try:
            running = [c for c in children if c.process is not None and c.process.poll() is None]
            while waiting and not interrupted and len(running) < limit:
                child = waiting.pop(0)
                child.start(env)
                running.append(child)
            if not running:
                break
            on_poll()
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            interrupted = _forward_interrupt(children, interrupted)
    for child in children:
        if child.process is not None:
            child.returncode = child.process.wait()
    on_poll()
    return interrupted


def watch(children: Sequence[Child], *, until: Callable[[], bool] = lambda: False,
          on_poll: Callable[[], None] = lambda: None, interrupted: bool = False) -> bool:
    """Poll started children until ``until()`` holds or none runs, calling ``on_poll``. Ctrl-C
    forwards SIGINT (once) to those running and then waits for all of them to end; returns
    whether that happened (``interrupted``: it already had)."""
    while True:
        try:
            if not any(c.running for c in children) or (not interrupted and until()):
                break
            on_poll()
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            interrupted = _forward_interrupt(children, interrupted)
    if not any(c.running for c in children):
        for child in children:
            if child.process is not None:
                child.returncode = child.process.wait()
        on_poll()
    return interrupted


def merge_summaries(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One summary from the children's JSON summaries: numbers summed, lists joined, flags all
    true, dicts merged the same way, other values kept when they agree (else listed)."""
    merged: dict[str, Any] = {}
    for key in dict.fromkeys(k for part in parts for k in part):
        values = [part[key] for part in parts if key in part]
        merged[key] = _merge_values(values)
    return merged


def _merge_values(values: list[Any]) -> Any:
    if all(isinstance(v, bool) for v in values):
        return all(values)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sum(values)
    if all(isinstance(v, list) for v in values):
        return [x for v in values for x in v]
    if all(isinstance(v, dict) for v in values):
        return merge_summaries(values)
    distinct = list(dict.fromkeys(str(v) if not isinstance(v, (str, int, float, type(None))) else v for v in values))
    return distinct[0] if len(distinct) == 1 else distinct


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """One progress bar for the whole run on stderr; ``update(n)`` sets how many are done."""
    with Progress(*progress_columns(), console=err, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.update(task, completed=n)


def finished_children(children: Sequence[Child]) -> int:
    return sum(c.process is not None and c.process.poll() is not None for c in children)


def stop_if_failed(children: Sequence[Child], interrupted: bool, resume: str, *, state: str) -> None:
    """Interrupted, or a child failed (other than items failing, exit 1): name each failed
    segment, how it ended and its log, say ``state`` and the command that continues; exit with
    the worst code."""
    failed = [c for c in children if c.exit_code not in (ExitCode.OK, ExitCode.ITEMS_FAILED)]
    if not failed and not interrupted:
        return
    # Every segment that did not finish exited 130 by itself: `backfill control RUN stop`.
    stopped = not interrupted and all(c.returncode == ExitCode.INTERRUPTED for c in failed)
    for child in [] if stopped else failed:
        how = describe_returncode(child.returncode) if child.returncode is not None else "not started"
        err.print(f"[bold red]Segment {child.segment} failed[/] ({how}); log: {child.log}", soft_wrap=True)
        if not interrupted and child.returncode is not None and child.returncode > 0:  # its own words
            err.print(escape(child.tail()), soft_wrap=True)
    how = "Interrupted" if interrupted else "Stopped by `backfill control`" if stopped else "Stopped"
    err.print(f"[bold yellow]{how}:[/] {state}. Continue with:\n"
              f"  {escape(resume)}", soft_wrap=True)
    codes = [c.exit_code for c in children if c.process is not None] + ([ExitCode.INTERRUPTED] if interrupted else [])
    raise SystemExit(worst_exit_code(codes))
