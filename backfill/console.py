"""The CLI's terminals: rich output on stderr (progress, tables), stdout kept for --json."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from backfill.errors import ExitCode, Refused

err = Console(stderr=True)
out = Console()

# The exit codes (documented in backfill.errors, docs/reference/exit-codes.md and --help).
EXIT_OK = ExitCode.OK
EXIT_ITEM_FAILURES = ExitCode.ITEMS_FAILED
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


def verbosity() -> int:
    """How many -v the operator gave ``backfill`` (0 outside a command: library use, tests)."""
    context = click.get_current_context(silent=True)
    return int(context.find_root().params.get("verbose") or 0) if context is not None else 0


def first_time(hint: str) -> bool:
    """True the first time this command's output gives ``hint`` (a hint is worth reading once)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    given: set[str] = context.find_root().meta.setdefault("backfill.hints_given", set())
    if hint in given:
        return False
    given.add(hint)
    return True


class RateColumn(ProgressColumn):
    """Items per second over rich's recent window (the whole phase once it finished)."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        speed = task.finished_speed or task.speed or (task.completed / elapsed if elapsed else None)
        return Text(f"{speed:,.0f}/s" if speed else "-/s", style="progress.data.speed")


class RemainingColumn(TimeRemainingColumn):
    """The ETA, or why there is none: a paused run has no ETA (its rate says nothing of the rest)."""

    def render(self, task: Task) -> Text:
        if task.fields.get("paused"):
            return Text("paused", style="bold yellow")
        return Text("ETA ") + super().render(task)


def progress_columns() -> list[ProgressColumn]:
    """Every long phase's bar: what, how far, how fast, for how long, and how long still."""
    return [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
            TimeElapsedColumn(), RemainingColumn()]


@contextlib.contextmanager
def phases_progress() -> Iterator[Callable[[str, int], None]]:
    """``on_progress(phase, n)`` for a job of several phases of unknown size (scans): a bar per
    phase, with its count, rate and time; gone from the terminal when the job ends."""
    with Progress(*progress_columns(), console=err, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def on_progress(phase: str, n: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=None)
            bar.advance(tasks[phase], n)

        yield on_progress


def print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


def key_value_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title or None, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows.items():
        table.add_row(str(name), str(value))
    return table


_YES_HINT = "run it in a terminal to answer the question, or pass --yes once you have read the dry run"


def confirm_or_refuse(question: str, *, yes: bool) -> None:
    """Ask before a destructive step. ``--yes`` skips; no terminal and no ``--yes`` refuses."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise Refused(f"refused: {question!r} needs confirmation, there is no terminal to ask on, and "
                      "--yes was not given", hint=_YES_HINT)
    if not click.confirm(question, default=False, err=True):
        raise Refused("answered no: nothing was written")


def refuse_without_terminal(what: str, *, yes: bool) -> None:
    """Refuse up front (exit 3) when ``what`` will need a confirmation nobody can give.

    Called before a writing command reads or writes anything, so a script that forgot --yes
    learns it at once instead of after a full backup.
    """
    if yes or sys.stdin.isatty():
        return
    raise Refused(f"refused: {what} needs confirmation, there is no terminal to ask on, and --yes was "
                  "not given. Nothing was read or written", hint=_YES_HINT)
