"""``backfill restore``: roll the declaration's table back to a backup without losing newer data."""

from backfill.restore.plan import Action, ItemPlan, classify
from backfill.restore.runner import (
    RestoreOptions,
    RestorePlan,
    RestoreRefused,
    RestoreResult,
    execute_restore,
    plan_restore,
    run_restore,
)

__all__ = [
    "Action",
    "ItemPlan",
    "RestoreOptions",
    "RestorePlan",
    "RestoreRefused",
    "RestoreResult",
    "classify",
    "execute_restore",
    "plan_restore",
    "run_restore",
]
