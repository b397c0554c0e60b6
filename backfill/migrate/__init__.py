"""``backfill migrate`` as a library: the CLI, the demo and the benchmark call these in-process.

The names below load their module when first used (PEP 562), so that importing a small part of
the package (``backfill.migrate.plan`` for the CLI's processes) does not load the whole runner."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "Plan": "plan", "build_plan": "plan", "plan_item": "plan",
    "MigrationReport": "report",
    "DryRun": "runner", "MigrationError": "runner", "MigrationHooks": "runner", "MigrationOptions": "runner",
    "plan_migration": "runner", "run_migration": "runner",
}

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
