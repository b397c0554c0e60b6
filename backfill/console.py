"""The CLI's terminals: rich output on stderr (progress, tables), stdout kept for --json."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)
out = Console()

EXIT_OK = 0
EXIT_ITEM_FAILURES = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3  # destructive command without a terminal and without --yes


def print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


def key_value_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows.items():
        table.add_row(str(name), str(value))
    return table


def confirm_or_refuse(question: str, *, yes: bool) -> None:
    """Ask before a destructive step. ``--yes`` skips; no terminal and no ``--yes`` refuses."""
    if yes:
        return
    if not sys.stdin.isatty():
        err.print(
            f"[bold red]Refusing:[/] {question} needs confirmation, there is no terminal to ask on, "
            "and --yes was not given."
        )
        raise SystemExit(EXIT_REFUSED)
    if not click.confirm(question, default=False, err=True):
        err.print("Aborted: nothing was written.")
        raise SystemExit(EXIT_REFUSED)
