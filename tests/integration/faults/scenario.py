"""Shared steps of the fault scenarios: seed, migrate, and the closing full check.

Every scenario ends with ``final_check``: ``backfill verify`` (run_verify) over the whole table
AND an independent fresh scan counted by hand (demo.checks); both must agree that nothing is
lost and every count is exact. What it found goes into the scenario's figures.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from backfill.migrate import MigrationOptions
from backfill.run.backup import list_backups
from backfill.table.target import Target
from backfill.verify import VerifyOptions, run_verify
from demo.checks import TableCheck, check_tables
from demo.old_app import OldAppLog
from localdev.legacy_data import LegacyDataSet, generate, seed_tables
from tests.integration.faults.figures import Figures
from tests.support.event_oracle import OWNED, event_problems


def seed(target: Target, *, events: int, participants: int, malformed: int = 0, seed: int) -> LegacyDataSet:
    data = generate(events=events, participants=participants, malformed=malformed, seed=seed)
    seed_tables(target.dynamodb, target.settings.table("events"), target.settings.table("participants"), data)
    return data


def migration_options(backup_dir: Path, **overrides: Any) -> MigrationOptions:
    return replace(MigrationOptions(backup_dir=backup_dir, segments=2, workers=4, checkpoint_every=5), **overrides)


def newest_run_id(backup_dir: Path, table: str) -> str:
    [newest, *_] = [entry for entry in list_backups(backup_dir, table, check=False) if entry.backup]
    return newest.backup.run_id


def final_check(
    target: Target,
    data: LegacyDataSet,
    figures: Figures,
    *,
    backup_dir: Path,
    log: OldAppLog | None = None,
    extra_refused: set[str] = frozenset(),
) -> TableCheck:
    """Full verify + an independent check (a raw scan judged by tests/support/event_oracle.py, counts
    from a raw paginator); records lost items and wrong counts; asserts both are 0."""
    refused = set(data.malformed_ids) | set(extra_refused)
    settings = target.settings
    check = check_tables(
        target.dynamodb,
        settings.table("events"),
        settings.table("participants"),
        originals={event["eventId"]: event for event in data.events},
        refused=refused,
        app_owned=log.app_owned() if log else {},
        problems=event_problems,
        owned=OWNED,
    )
    created_missing = sorted((log.created if log else set()) - _event_ids(target))
    figures.items_checked += check.events
    figures.items_lost += len(check.lost) + len(created_missing)
    figures.counts_wrong += len(check.wrong_counts)
    verified = run_verify(target, VerifyOptions(backup_dir=backup_dir, total_segments=2))
    failing = verified.failing_names()
    assert check.ok, f"independent check: {check.summary()}: {check.wrong_counts[:3]} {check.not_upgraded[:3]} {check.altered[:3]} {check.lost[:3]}"
    assert not created_missing, f"events the live app created are gone: {created_missing[:5]}"
    assert failing == refused, (
        f"verify failures {verified.counts_by_kind()}: {[f.to_json() for f in verified.failures[:3]]}"
    )
    return check


def _event_ids(target: Target) -> set[str]:
    ids: set[str] = set()
    for page in target.dynamodb.get_paginator("scan").paginate(
        TableName=target.settings.table("events"), ProjectionExpression="eventId", ConsistentRead=True
    ):
        ids.update(row["eventId"]["S"] for row in page["Items"])
    return ids
