"""Rich rendering of plans, reports and progress for the terminal (stderr).

No values by default: terminals and CI or Batch logs show the fields a write changes with their
types, and reasons with the values they quote as <value>; ``show_values`` shows them (the JSON
report has them either way)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from backfill.console import key_value_table
from backfill.migrate.plan import ABSENT_MARK, Plan
from backfill.migrate.report import MigrationReport
from chalicelib.redaction import without_values
from chalicelib.schema import active_schema

LISTED = 20  # refused/failed items shown on the terminal (all of them are in the JSON report)


def progress_factory(console: Console) -> Callable[[str, int | None], Any]:
    @contextlib.contextmanager
    def phase(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)
            if total is None:
                bar.update(task, total=bar.tasks[0].completed)

    return phase


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


def counter_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("value", style="bold")
    table.add_column("events", justify="right")
    for name, count in sorted(counts.items()):
        table.add_row(name, str(count))
    return table


def kind_of(value: Any) -> str:
    """A report value's DynamoDB type, shown instead of the value: S, N, BOOL, NULL, L, M."""
    if value == ABSENT_MARK:
        return value
    kinds = ((bool, "BOOL"), (type(None), "NULL"), (str, "S"), ((int, float), "N"), (list, "L"), (dict, "M"))
    return next((kind for types, kind in kinds if isinstance(value, types)), type(value).__name__)


def _aggregate_table(title: str, aggregate: dict[str, Any]) -> list[Table]:
    """The aggregate's distribution, titled with its declared name (none without an aggregate)."""
    name = aggregate.get("name")
    if name is None:
        return []
    return [key_value_table(title.format(name), {k: v for k, v in aggregate.items() if k != "name"})]


def plan_view(plan: Plan, *, heading: str, show_values: bool = False) -> Group:
    data = plan.to_dict()
    parts: list[Any] = [
        key_value_table(
            heading,
            {
                "items": data["total"],
                "would upgrade": data["would_upgrade"],
                "already upgraded (skip)": data["already_current"],
                "refused": data["refused"],
                "left alone (newer schema version)": data["newer_version"],
                "failed to plan": len(data["failed_items"]),
            },
        ),
        counter_table("Fields each write would SET or REMOVE", data["writes_per_field"]),
        counter_table("Status transitions", data["transitions"]),
        *_aggregate_table("{} to write or keep", data["aggregate"]),
    ]
    for sample in data["sample_diffs"]:
        diff = Table(title=f"Sample: {sample[active_schema().key.label]}", title_justify="left")
        for column in ("field", "before", "after"):
            diff.add_column(column)
        for name, change in sample["changes"].items():
            shown = str if show_values else kind_of
            diff.add_row(name, shown(change["before"]), shown(change["after"]))
        parts.append(diff)
    if data["refused_items"]:
        parts.append(problems_table("Refused", data["refused_items"], show_values=show_values))
    if data["failed_items"]:
        parts.append(problems_table("Failed to plan", data["failed_items"], show_values=show_values))
    return Group(*parts)


def report_view(report: MigrationReport, *, show_values: bool = False) -> Group:
    data = report.to_dict()
    summary = {
        "run id": data["run_id"],
        "backup": data["backup_file"],
        "completed": data["completed"],
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
        "events/s": data["events_per_s"],
        "requests": ", ".join(f"{op} {n}" for op, n in data["requests"]["calls"].items()),
    }
    parts: list[Any] = [
        key_value_table("Migration report", summary),
        counter_table("Status distribution after migration", data["status_distribution"]),
        *_aggregate_table("{}", data["aggregate"]),
    ]
    for title, key in (("Refused", "refused_items"), ("Failed", "failed_items"), ("Contended", "contended_items")):
        if data[key]:
            parts.append(problems_table(title, data[key], show_values=show_values))
    return Group(*parts)
