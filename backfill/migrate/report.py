"""The report of a migration run: what happened to every item, as data (JSON) for people and tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backfill.console import EXIT_ITEM_FAILURES, EXIT_OK
from backfill.run.names import REPORT_SUFFIX as REPORT_SUFFIX
from backfill.run.tally import FAILED, Tally
from chalicelib.upgrader import UpgradeResult


@dataclass
class MigrationReport:
    run_id: str
    backup_file: str
    backup_items: int
    target: dict[str, Any]
    tally: Tally  # the whole run, earlier attempts of a resumed run included
    duration_s: float  # this attempt
    processed: int  # items this attempt examined
    resumed_after: int = 0  # items an earlier attempt had finished (not examined again)
    source_rows: int = 0  # rows of the aggregate's source table counted
    requests: dict[str, int] = field(default_factory=dict)  # API calls per operation, this attempt
    http_requests: dict[str, int] = field(default_factory=dict)  # incl. retries
    completed: bool = True

    @property
    def migrated(self) -> int:
        return self.tally.count(UpgradeResult.UPGRADED.value)

    @property
    def problems(self) -> int:
        return len(self.tally.refused) + len(self.tally.failed) + len(self.tally.contended)

    @property
    def exit_code(self) -> int:
        """1 when any item was refused, failed or kept changing under us; else 0."""
        return EXIT_ITEM_FAILURES if self.problems else EXIT_OK

    @property
    def items_per_s(self) -> float:
        return round(self.processed / self.duration_s, 1) if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        tally = self.tally
        writes = self.requests.get("UpdateItem", 0)
        return {
            "run_id": self.run_id,
            "backup_file": self.backup_file,
            "backup_items": self.backup_items,
            "target": self.target,
            "completed": self.completed,
            "total": tally.total,
            "migrated": self.migrated,
            "skipped_already_upgraded": tally.count(UpgradeResult.CURRENT.value),
            "refused": tally.count(UpgradeResult.REFUSED.value),
            "failed": tally.count(FAILED),
            "gone": tally.count(UpgradeResult.GONE.value),
            "contended": tally.count(UpgradeResult.CONTENDED.value),
            "newer_version": tally.count(UpgradeResult.NEWER.value),  # left untouched: another deployment's
            "unclear_writes_settled": dict(sorted(tally.settled.items())),
            "refused_items": tally.refused,
            "failed_items": tally.failed,
            "contended_items": tally.contended,
            "transitions": dict(sorted(tally.transitions.items())),
            "status_distribution": dict(sorted(tally.statuses.items())),
            "aggregate": {**tally.aggregate.to_dict(), "source_rows_counted": self.source_rows},
            "resumed_after": self.resumed_after,
            "processed_this_attempt": self.processed,
            "duration_s": round(self.duration_s, 3),
            "items_per_s": self.items_per_s,
            "requests": {
                "calls": dict(sorted(self.requests.items())),
                "http": dict(sorted(self.http_requests.items())),
                "update_item_per_migrated_item": round(writes / self.migrated, 3) if self.migrated else None,
            },
            "exit_code": self.exit_code,
        }
