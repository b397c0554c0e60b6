"""``backfill mirror seed|verify``: the membership mirror of a count (docs/how-to/mirror.md)."""

from __future__ import annotations

import click
from rich.table import Table

from backfill.cli.options import MAX_THREADS, json_option, target_options, yes_option
from backfill.console import (
    EXIT_ITEM_FAILURES,
    EXIT_OK,
    confirm_or_refuse,
    err,
    key_value_table,
    phases_progress,
    print_json,
)
from backfill.mirror.seed import mirrored_aggregate, seed_mirror
from backfill.mirror.verify import MirrorVerifyResult, verify_mirror
from backfill.table.target import Target


@click.group("mirror", short_help="Seed and check a count's membership mirror.")
def command() -> None:
    """Seed a count's membership mirror and hand the counts over to it, or check it."""


@command.command("seed", short_help="Fill the mirror and hand counts over to it.")
@click.option("--scan-threads", "segments", default=4, show_default=True, type=click.IntRange(1, MAX_THREADS),
              help="Segments of each parallel scan (source table, then the migrated table).")
@click.option("--writers", default=8, show_default=True, type=click.IntRange(1, MAX_THREADS),
              help="Transactions in flight at once while seeding.")
@yes_option
@json_option
@target_options
def seed(target: Target, segments: int, writers: int, yes: bool, as_json: bool) -> None:
    """Put every source row into the mirror (put-if-absent), then set each unmarked item's count to
    its present rows and mark it: from then on the live path ADDs +-1. Safe beside the live path
    (mirrored version deployed) and safe to run again. Exit 1 when an item kept racing."""
    aggregate = mirrored_aggregate()
    target.require_declared_tables()
    mirror = aggregate.mirror
    assert mirror is not None
    confirm_or_refuse(f"Seed {target.settings.table(mirror.table)} from {target.settings.table(aggregate.source.table)} "
                      f"and hand the {aggregate.name} of {target.settings.target_table} over to it?", yes=yes)
    with phases_progress() as on_progress:
        result = seed_mirror(target, segments=segments, threads=writers, on_progress=on_progress)
    rows = {"source rows": result.source_rows, **{f"rows {k}": v for k, v in sorted(result.outcomes.items())},
            "items marked now": result.marked, "items marked before": result.already_marked,
            "items still racing": len(result.contended), "verdict": "OK" if result.ok else "FAILED"}
    err.print(key_value_table(f"mirror seed {target.settings.table(mirror.table)}", rows))
    if result.contended:
        err.print(f"items that kept changing (run seed again): {', '.join(result.contended[:20])}")
    if as_json:
        print_json(result.to_json())
    raise SystemExit(EXIT_OK if result.ok else EXIT_ITEM_FAILURES)


@command.command("verify", short_help="Check each mirrored count against its source.")
@click.option("--scan-threads", "segments", default=4, show_default=True, type=click.IntRange(1, MAX_THREADS),
              help="Segments of each parallel scan.")
@click.option("--show", default=20, show_default=True, type=click.IntRange(min=0), help="Findings to list.")
@json_option
@target_options
def verify(target: Target, segments: int, show: int, as_json: bool) -> None:
    """Check each marked count against its present mirror rows, and the mirror against the source
    table (every member present, no other). Exit 0 when all hold, 1 otherwise."""
    mirrored_aggregate()
    target.require_declared_tables()
    result = checked(target, segments)
    render_verify(target, result, show)
    if as_json:
        print_json(result.to_json())
    raise SystemExit(EXIT_OK if result.ok else EXIT_ITEM_FAILURES)


def checked(target: Target, segments: int) -> MirrorVerifyResult:
    with phases_progress() as on_progress:
        return verify_mirror(target, segments=segments, on_progress=on_progress)


def render_verify(target: Target, result: MirrorVerifyResult, show: int) -> None:
    """The mirror checks' summary and first findings (also shown by ``backfill verify``)."""
    mirror = mirrored_aggregate().mirror
    assert mirror is not None
    summary = {"source rows": result.source_rows, "mirror rows": result.mirror_rows, "items": result.items,
               **result.totals, "verdict": "OK" if result.ok else "FAILED"}
    err.print(key_value_table(f"mirror verify {target.settings.table(mirror.table)}", summary))
    if result.findings and show:
        table = Table(title=f"first {min(show, len(result.findings))} findings", title_justify="left")
        for column in ("item", "kind", "detail"):
            table.add_column(column)
        for finding in result.findings[:show]:
            table.add_row(finding.item, finding.kind, finding.detail)
        err.print(table)
