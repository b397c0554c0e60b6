"""Which runs ``backfill backups prune`` may delete, and deleting them.

The rule, per table (a run is the unit: all its backups, ledgers, checkpoints, reports, plans
and logs go together or not at all). A run is kept when any of these holds:

- ``recent``: its newest backup is not older than the given number of days;
- ``newest complete run``: it is the table's newest run whose backups cover every segment
  (the last whole copy of the table), however old;
- ``newest run that wrote``: it is the table's newest run with a ledger: restoring it is how the
  last migration is undone (an older run's writes were followed by a newer run's, whose restore
  has to come first; past that, rolling further back is what pruning gives up);
- ``unfinished``: a segment's checkpoint says its migration has not completed: a resume or a
  restore still needs everything.

Deletion takes manifests first: a backup without its manifest is no longer listed or usable,
so a prune interrupted half way never leaves a run that looks whole but is not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from backfill.run.backup import DATA_SUFFIX, MANIFEST_SUFFIX, read_json
from backfill.run.checkpoint import CHECKPOINT_SUFFIX
from backfill.run.ledger import LEDGER_SUFFIX, ledger_exists
from backfill.run.names import stem_of
from backfill.run.runs import Run, runs_in
from backfill.run.store import RunStore, StoreError

DAY_S = 86_400


@dataclass(frozen=True)
class Decision:
    run: Run
    age_days: float
    files: tuple[str, ...]  # names in the store, manifests first
    keep: tuple[str, ...]  # why it stays (empty: it goes)

    @property
    def delete(self) -> bool:
        return not self.keep


def plan_prune(store: RunStore, older_than_days: float, table: str | None = None,
               now: float | None = None) -> list[Decision]:
    """A decision for every run in ``store`` (of ``table``), newest first."""
    now = time.time() if now is None else now
    names = store.names()
    runs = runs_in(store, table)
    newest_complete: dict[str, str] = {}
    newest_written: dict[str, str] = {}
    for run in runs:  # newest first
        if run.complete:
            newest_complete.setdefault(run.table, run.name)
        if _wrote(store, run):
            newest_written.setdefault(run.table, run.name)
    decisions = []
    for run in runs:
        age = (now - _created_s(run)) / DAY_S
        keep = []
        if age <= older_than_days:
            keep.append("recent")
        if newest_complete.get(run.table) == run.name:
            keep.append("newest complete run")
        if newest_written.get(run.table) == run.name:
            keep.append("newest run that wrote")
        if _unfinished(store, run):
            keep.append("unfinished")
        decisions.append(Decision(run, age, _files(run, names), tuple(keep)))
    return decisions


def prune(store: RunStore, decision: Decision) -> None:
    """Delete every file of a run the rule lets go (its ledger with all its parts)."""
    if not decision.delete:
        raise ValueError(f"run {decision.run.name} is kept ({', '.join(decision.keep)})")
    for name in decision.files:
        store.delete(name)
    for backup in decision.run.backups:
        store.delete_log(backup.name_for(LEDGER_SUFFIX))


def _created_s(run: Run) -> float:
    return max(int(backup.manifest.get("created_at_ms", 0)) for backup in run.backups) / 1000


def _wrote(store: RunStore, run: Run) -> bool:
    return any(ledger_exists(store, backup.name_for(LEDGER_SUFFIX)) for backup in run.backups)


def _unfinished(store: RunStore, run: Run) -> bool:
    for backup in run.backups:
        name = backup.name_for(CHECKPOINT_SUFFIX)
        try:
            if store.exists(name) and not read_json(store, name).get("completed"):
                return True
        except (StoreError, OSError, ValueError, AttributeError):
            return True  # a checkpoint that cannot be read: keep the run rather than guess
    return False


def _files(run: Run, names: list[str]) -> tuple[str, ...]:
    """The run's files among ``names``: those whose stem is exactly one of its backups' run ids
    or the run's name (``nightly``'s files are not ``nightly.v2``'s: see ``backfill.run.names``)."""
    stems = {run.name, *(backup.run_id for backup in run.backups)}
    mine = [name for name in names if stem_of(name) in stems]
    order = {MANIFEST_SUFFIX: 0, DATA_SUFFIX: 1}
    return tuple(sorted(mine, key=lambda name: (min((v for k, v in order.items() if name.endswith(k)), default=2), name)))
