"""``backfill migrate --yes`` with default options, in-process, with each phase timed.

The phases come from the run's own progress hook (counting participants, backing up events,
migrating); everything before the first phase is the target description (item counts shown
before confirmation), and the plan is the time between backup and migration.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from backfill.migrate import MigrationHooks, MigrationOptions, run_migration
from backfill.table.target import Target
from chalicelib.config import Settings


class PhaseClock:
    """A progress factory for ``MigrationHooks`` that records how long each phase took."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.marks: list[tuple[str, float, float]] = []  # (phase, start, end), seconds since start

    @contextlib.contextmanager
    def __call__(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        begin = time.perf_counter() - self.started
        try:
            yield lambda n: None
        finally:
            self.marks.append((description, begin, time.perf_counter() - self.started))

    def phases(self, total: float) -> dict[str, float]:
        """Phase -> seconds, with the gaps between phases named (describe, plan, report)."""
        result: dict[str, float] = {}
        cursor = 0.0
        for description, begin, end in self.marks:
            if begin - cursor > 1e-3:
                result[f"between: before {description!r}"] = begin - cursor
            result[description] = end - begin
            cursor = end
        if total - cursor > 1e-3:
            result["after the last phase (report)"] = total - cursor
        return result


def run_default_migration(
    session: Any, settings: Settings, backup_dir: Path | None = None
) -> tuple[int, dict[str, Any]]:
    """What ``backfill migrate --yes`` does with its defaults; returns (events examined, notes).

    The backup goes to ``backup_dir`` when given (a restore can follow), else to a temporary one.
    """
    clock = PhaseClock()
    with tempfile.TemporaryDirectory(prefix="bench-backups-") as scratch:
        options = MigrationOptions(backup_dir=backup_dir or Path(scratch))
        report = run_migration(Target(settings, _session=session), options, MigrationHooks(progress=clock))
        total = time.perf_counter() - clock.started
        summary = report.to_dict()
        manifest = Path(report.backup_file)
    return report.processed, {
        "backup_file": str(manifest),
        "migrated": report.migrated,
        "phases": clock.phases(total),
        "report": {k: summary[k] for k in ("total", "migrated", "skipped_already_upgraded", "refused",
                                           "failed", "contended", "completed", "items_per_s")},
        "options": {k: v for k, v in options.to_dict().items() if k != "backup_dir"},
    }
