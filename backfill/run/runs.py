"""A run: the backups that one migration took, possibly split over several workers.

Workers started with the same ``--run-id NAME`` and ``--segment K --total-segments N`` each
write one backup (``NAME-segKofN``) into the same run store; the run is complete when its
backups together cover every segment 0..N-1 exactly once. Verify, restore and ``backups`` use
the whole run, and say plainly when a run covers only part of its table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from backfill.run.backup import Backup, BackupError, list_backups
from backfill.run.store import RunStore

# Where an array-job engine puts the index of this worker (AWS Batch, Kubernetes Indexed Job).
SEGMENT_INDEX_VARIABLES = ("AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX")


@dataclass(frozen=True)
class Run:
    name: str
    table: str
    total_segments: int
    backups: tuple[Backup, ...]  # oldest first

    @property
    def covered(self) -> list[int]:
        return sorted(s for backup in self.backups for s in backup.segments)

    @property
    def missing(self) -> list[int]:
        return sorted(set(range(self.total_segments)) - set(self.covered))

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def item_count(self) -> int:
        return sum(backup.item_count for backup in self.backups)

    def coverage(self) -> str:
        """``"all 3 segments"`` or ``"segments [0] of 2 (missing [1])"``."""
        if self.complete:
            return f"all {self.total_segments} segment{'s' if self.total_segments != 1 else ''}"
        return f"segments {self.covered} of {self.total_segments} (missing {self.missing})"

    def require_complete(self) -> None:
        if not self.complete:
            raise RunIncomplete(
                f"run {self.name!r} covers only part of table {self.table!r}: {self.coverage()}; "
                "the missing segments' workers have not finished their backups (see `backfill control "
                f"{self.name} status{self._store_option()}`)"
            )

    def _store_option(self) -> str:
        return f" --backup-dir {self.backups[0].store.location}" if self.backups else ""

    def backup_of(self, segment: int) -> Backup | None:
        for backup in self.backups:
            if segment in backup.segments:
                return backup
        return None


class RunIncomplete(BackupError):
    """The run's backups do not cover the whole table."""


def runs_in(store: RunStore, table: str | None = None) -> list[Run]:
    """Every run with at least one readable backup manifest in ``store`` (newest first)."""
    groups: dict[tuple[str, str], list[Backup]] = {}
    for listing in list_backups(store, table, check=False):
        if listing.backup is not None:
            groups.setdefault((listing.backup.table, listing.backup.run), []).append(listing.backup)
    runs = [_run(name, table_name, backups) for (table_name, name), backups in groups.items()]
    return sorted(runs, key=lambda run: max(b.manifest.get("created_at_ms", 0) for b in run.backups), reverse=True)


def find_run(store: RunStore, name: str, table: str | None = None) -> Run:
    """The run ``name`` in ``store``. Raises BackupError when it has no backup there."""
    matches = [run for run in runs_in(store, table) if run.name == name]
    if not matches:
        raise BackupError(f"no backup of run {name!r}{f' of table {table!r}' if table else ''} in {store.location}")
    if len(matches) > 1:
        raise BackupError(f"run {name!r} in {store.location} has backups of several tables; give --table DECLARED=ACTUAL")
    return matches[0]


def run_of(backup: Backup) -> Run:
    """The run ``backup`` belongs to, with every sibling backup in the same store."""
    return find_run(backup.store, backup.run, backup.table)


def _run(name: str, table: str, backups: list[Backup]) -> Run:
    ordered = sorted(backups, key=lambda b: b.manifest.get("created_at_ms", 0))
    totals = {b.total_segments for b in ordered}
    if len(totals) > 1:
        raise BackupError(f"run {name!r} mixes splits into {sorted(totals)} segments; its backups cannot form one table")
    seen: dict[int, str] = {}
    for backup in ordered:
        for segment in backup.segments:
            if segment in seen:
                raise BackupError(
                    f"run {name!r} has two backups of segment {segment}: {seen[segment]} and {backup.run_id}"
                )
            seen[segment] = backup.run_id
    return Run(name, table, totals.pop(), tuple(ordered))


def segment_from_environment(environ: dict[str, str] | None = None) -> tuple[int, str] | None:
    """(index, variable) when an array-job engine set this worker's index, else None."""
    environ = dict(os.environ) if environ is None else environ
    for variable in SEGMENT_INDEX_VARIABLES:
        value = environ.get(variable)
        if value is None or value == "":
            continue
        if not value.isdigit():
            raise ValueError(f"{variable}={value!r} is not a segment index (a whole number from 0)")
        return int(value), variable
    return None


def run_id_from_environment(environ: dict[str, str] | None = None) -> str | None:
    """AWS Batch names every child of an array job ``PARENT_ID:INDEX``: the parent id names the run."""
    environ = dict(os.environ) if environ is None else environ
    job_id = environ.get("AWS_BATCH_JOB_ID", "")
    return job_id.split(":", 1)[0] or None
