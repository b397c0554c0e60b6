"""The CLI's terminals: rich output on stderr (progress, tables), stdout kept for --json."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from backfill.errors import ExitCode, Refused

err = Console(stderr=True)
out = Console()

# The exit codes (documented in backfill.errors, docs/reference/exit-codes.md and --help).
EXIT_OK = ExitCode.OK
EXIT_ITEM_FAILURES = ExitCode.ITEMS_FAILED
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


def print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


def key_value_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
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
