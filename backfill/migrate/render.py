"""Rich rendering of plans, reports and progress for the terminal (stderr).

No values by default: terminals and CI or Batch logs show the fields a write changes with their
types, and reasons with the values they quote as <value>; ``show_values`` shows them (the JSON
report has them either way)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich import box
from rich.columns import Columns
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from backfill.console import first_time, key_value_table, progress_columns
from backfill.migrate.plan import ABSENT_MARK, Plan
from backfill.migrate.report import MigrationReport
from chalicelib.redaction import without_values
from chalicelib.schema import active_schema

LISTED = 20  # refused/failed items shown on the terminal (all of them are in the JSON report)


class Phases:
    """The progress bars of one run's phases on ``console``; a pause shows on the bar that is running."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._current: tuple[Progress, TaskID, str] | None = None

    @contextlib.contextmanager
    def phase(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        with Progress(*progress_columns(), console=self.console, transient=False) as bar:
            task = bar.add_task(description, total=total)
            self._current = (bar, task, description)
            try:
                yield lambda n: bar.advance(task, n)
            finally:
                self._current = None
            if total is None:
                bar.update(task, total=bar.tasks[0].completed)

    def paused(self, paused: bool, by: str) -> None:
        """Called from the steering thread when ``backfill control`` pauses or resumes the run."""
        if self._current is None:
            return
        bar, task, description = self._current
        since = time.strftime("%H:%M:%S", time.localtime())
        shown = f"{description} [bold yellow]paused by control (since {since})[/]" if paused else description
        bar.update(task, description=shown, paused=paused)
        # a line too: a log (CI, Batch, a file) keeps no bar's state, and the bar does not say who
        bar.console.print(f"{'Paused' if paused else 'Resumed'} by `backfill control` ({escape(by)}) at {since}",
                          soft_wrap=True)


def progress_factory(console: Console) -> Callable[[str, int | None], Any]:
    return Phases(console).phase


def problems_table(title: str, problems: list[dict[str, Any]], limit: int = LISTED, *,
                   show_values: bool = False) -> Table:
    table = Table(title=f"{title} ({len(problems)})", title_justify="left")
    label = active_schema().key.label
    table.add_column(label, style="bold")
    table.add_column("reasons")
    for problem in problems[:limit]:
        reasons = "; ".join(problem["reasons"])
        table.add_row(str(problem[label]), reasons if show_values else without_values(reasons))
    if len(problems) > limit:
        table.add_row("...", f"{len(problems) - limit} more in the JSON report")
    return table


def counter_table(title: str, counts: dict[str, int], column: str = "value") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(column, style="bold")
    table.add_column("items", justify="right")
    for name, count in sorted(counts.items()):
        table.add_row(name, str(count))
    return table


def kind_of(value: Any) -> str:
    """A report value's DynamoDB type, shown instead of the value: S, N, BOOL, NULL, L, M."""
    if value == ABSENT_MARK:
        return value
    kinds = ((bool, "BOOL"), (type(None), "NULL"), (str, "S"), ((int, float), "N"), (list, "L"), (dict, "M"))
    return next((kind for types, kind in kinds if isinstance(value, types)), type(value).__name__)


def _aggregate_table(title: str, aggregate: dict[str, Any], *, detailed: bool) -> list[Any]:
    """The aggregate's distribution, titled with its declared name (none without an aggregate):
    a table with -v, one line by default."""
    name = aggregate.get("name")
    if name is None:
        return []
    figures = {k: v for k, v in aggregate.items() if k != "name"}
    if detailed:
        return [key_value_table(title.format(name), figures)]
    return [f"{title.format(name)}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())]


VALUES_HIDDEN = "Values are hidden (they may be personal data): --show-values shows them."
MORE_DETAIL = "More: -v (the target, sample items, every figure) or --json."


def plan_view(plan: Plan, *, heading: str, show_values: bool = False, detailed: bool = False) -> Group:
    """The plan before its question. By default what the decision needs on one screen: the
    counts, the attributes written, the workflow's transitions and the aggregate; ``detailed``
    (-v) adds the sample items (types only unless ``show_values``)."""
    data = plan.to_dict()
    counts = {
        "items": data["total"],
        "would upgrade": data["would_upgrade"],
        "already upgraded (skip)": data["already_current"],
        "refused": data["refused"],
        "left alone (newer schema version)": data["newer_version"],
        "failed to plan": len(data["failed_items"]),
    }
    parts: list[Any] = [
        heading,  # a line of its own: as a table's title it would wrap at the table's width
        key_value_table("", counts if detailed else _nonzero(counts, keep=("items", "would upgrade", "refused"))),
    ]
    changes = [counter_table("Attributes written", data["writes_per_field"], "SET/REMOVE attribute")]
    if active_schema().workflow:  # no workflow: no transitions to show
        changes.append(counter_table("Status transitions", data["transitions"], "from->to"))
    parts.append(Columns(changes))  # side by side where the terminal is wide enough
    parts += _aggregate_table("{} to write or keep", data["aggregate"], detailed=detailed)
    if detailed or show_values:
        parts += [_sample_table(sample, show_values=show_values) for sample in data["sample_diffs"]]
    parts += _problem_tables((("Refused", data["refused_items"]), ("Failed to plan", data["failed_items"])),
                             show_values=show_values)
    if not detailed:
        parts.append(MORE_DETAIL)
    return Group(*parts)


def _sample_table(sample: dict[str, Any], *, show_values: bool) -> Table:
    diff = Table(title=f"Sample: {sample[active_schema().key.label]}", title_justify="left", box=box.SIMPLE)
    for column in ("attribute", "before", "after"):
        diff.add_column(column)
    shown = str if show_values else kind_of
    for name, change in sample["changes"].items():
        diff.add_row(name, shown(change["before"]), shown(change["after"]))
    return diff


def _nonzero(rows: dict[str, Any], *, keep: tuple[str, ...]) -> dict[str, Any]:
    """The rows worth a line by default: those in ``keep`` and any that is not 0 (or "none")."""
    return {name: value for name, value in rows.items() if name in keep or value not in (0, "none", "0")}


def _problem_tables(groups: tuple[tuple[str, list[dict[str, Any]]], ...], *, show_values: bool) -> list[Any]:
    """The refused, failed or contended items; then how to see hidden values, once per command."""
    tables: list[Any] = [problems_table(title, items, show_values=show_values) for title, items in groups if items]
    if tables and not show_values and first_time(VALUES_HIDDEN):
        tables.append(VALUES_HIDDEN)
    return tables


def report_view(report: MigrationReport, *, show_values: bool = False, detailed: bool = False) -> Group:
    data = report.to_dict()
    summary = {
        "run id": data["run_id"],
        "backup": data["backup_file"],
        "completed": "yes" if data["completed"] else "no",
        "total": data["total"],
        "migrated": data["migrated"],
        "skipped (already upgraded)": data["skipped_already_upgraded"],
        "refused": data["refused"],
        "failed": data["failed"],
        "gone (deleted meanwhile)": data["gone"],
        "contended": data["contended"],
        "left alone (newer schema version)": data["newer_version"],
        "unclear writes, settled by reading back": ", ".join(
            f"{how} {n}" for how, n in data["unclear_writes_settled"].items()) or "none",
        "resumed after": data["resumed_after"],
        "duration (s)": data["duration_s"],
        "items/s": data["items_per_s"],
        "requests": ", ".join(f"{op} {n}" for op, n in data["requests"]["calls"].items()),
    }
    essential = ("run id", "backup", "completed", "total", "migrated", "refused", "failed", "duration (s)", "items/s")
    parts: list[Any] = [key_value_table("Migration report", summary if detailed else _nonzero(summary, keep=essential))]
    if detailed and active_schema().workflow:
        parts.append(counter_table("Statuses after migration", data["status_distribution"], "status"))
    parts += _aggregate_table("{}", data["aggregate"], detailed=detailed)
    parts += _problem_tables((("Refused", data["refused_items"]), ("Failed", data["failed_items"]),
                              ("Contended", data["contended_items"])), show_values=show_values)
    return Group(*parts)
