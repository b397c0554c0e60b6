"""Step results and the closing PASS/FAIL table of the demo."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

PASS, FAIL, NOT_RUN = "PASS", "FAIL", "NOT RUN"
STYLE = {PASS: "bold green", FAIL: "bold red", NOT_RUN: "bold yellow"}


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str
    detail: str
    seconds: float = 0.0


class NotLanded(Exception):  # noqa: N818 - a state of the repository, not a bug
    """A piece of the project the step needs is not in this checkout."""


def summary_table(results: list[StepResult]) -> Table:
    table = Table(title="Demo summary", title_justify="left")
    table.add_column("step")
    table.add_column("result")
    table.add_column("time", justify="right")
    table.add_column("what it showed")
    for result in results:
        table.add_row(
            result.name,
            f"[{STYLE[result.status]}]{result.status}[/]",
            f"{result.seconds:.1f}s",
            result.detail,
        )
    return table


def exit_code(results: list[StepResult]) -> int:
    return 0 if results and all(r.status == PASS for r in results) else 1


def print_summary(console: Console, results: list[StepResult]) -> None:
    console.print()
    console.print(summary_table(results))
    code = exit_code(results)
    verdict = "[bold green]PASS[/]: every step passed" if code == 0 else "[bold red]FAIL[/]: see the steps above"
    console.print(f"{verdict} (exit code {code})")
