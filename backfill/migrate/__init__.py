"""``backfill migrate`` as a library: the CLI, the demo and the benchmark call these in-process."""

from __future__ import annotations

from backfill.migrate.plan import Plan, build_plan, plan_item
from backfill.migrate.report import MigrationReport
from backfill.migrate.runner import (
    DryRun,
    MigrationError,
    MigrationHooks,
    MigrationOptions,
    plan_migration,
    run_migration,
)

__all__ = [
    "DryRun",
    "MigrationError",
    "MigrationHooks",
    "MigrationOptions",
    "MigrationReport",
    "Plan",
    "build_plan",
    "plan_item",
    "plan_migration",
    "run_migration",
]
