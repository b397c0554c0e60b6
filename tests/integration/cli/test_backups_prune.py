"""`backfill backups prune --older-than DAYS`: a dry run unless --yes; deletes whole old runs (backup,
manifest, ledger with all its parts, checkpoint, reports) but never the table's newest complete run,
its newest run that wrote, or an unfinished run; on a local directory and on S3 (moto server)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from backfill.run.backup import read_json, write_json
from backfill.run.store import RunStore, open_store
from backfill.table.backup import create_backup
from tests.integration.migrate_helpers import seed

DAY_MS = 86_400_000
# run -> (age in days, segments it backs up of how many, wrote (a ledger), checkpoint completed?)
RUNS: dict[str, tuple[int, list[int], int, bool, bool | None]] = {
    "r-old-wrote":      (40, [0], 1, True, True),    # older writer, superseded by r-newest-wrote: goes
    "r-newest-wrote":   (35, [0], 1, True, True),    # the table's newest run with a ledger: kept
    "r-old-partial":    (34, [0], 2, False, None),   # half a run, old: goes
    "r-unfinished":     (38, [1], 2, True, False),   # a migration that never completed: kept
    "r-newest-whole":   (31, [0], 1, False, None),   # the newest complete run (a backup only): kept
    "r-recent-partial": (2, [1], 2, False, None),    # young: kept
}
GOES = {"r-old-wrote", "r-old-partial"}


def build_runs(dynamodb: Any, table: str, store: RunStore) -> None:
    """The runs of RUNS in ``store``, with ages set in their manifests."""
    now_ms = int(time.time() * 1000)
    for run, (age, segments, total, wrote, completed) in RUNS.items():
        run_id = run if total == 1 else f"{run}-seg{segments[0]}of{total}"
        backup = create_backup(dynamodb, table, store, region="us-east-1", endpoint="test", run=run, run_id=run_id,
                               total_segments=total, segments=segments)
        manifest = read_json(store, backup.manifest_name)
        write_json(store, backup.manifest_name, {**manifest, "created_at_ms": now_ms - age * DAY_MS})
        write_json(store, f"{run_id}.report.json", {"run_id": run_id})
        if wrote:
            for attempt in range(2):  # two attempts: on S3 two ledger objects
                log = store.append_log(f"{run_id}.ledger.jsonl")
                log.append(f'{{"attempt": {attempt}}}')
                log.close()
        if completed is not None:
            write_json(store, f"{run_id}.checkpoint.json", {"run_id": run_id, "completed": completed})


def local_files(runs: Path) -> set[str]:
    return {p.name for p in runs.iterdir()}


def test_a_dry_run_lists_and_deletes_nothing_then_yes_deletes_exactly_the_old_runs(dynamodb, live_settings,
                                                                                   backfill, workdir):
    # given six runs of the events table in a local run store
    seed(dynamodb, live_settings, events=4, participants=4, malformed=0)
    runs = workdir / "runs"
    build_runs(dynamodb, live_settings.table("events"), open_store(runs))
    before = local_files(runs)
    # when prune runs without --yes
    dry = backfill("backups", "prune", "--older-than", "30", "--backup-dir", str(runs), "--json")
    # then it says which runs would go, and why the others stay, and deletes nothing
    assert dry.exit_code == 0, dry.output
    decisions = {row["run"]: row for row in dry.json()}
    assert {run for run, row in decisions.items() if not row["keep"]} == GOES
    assert decisions["r-newest-wrote"]["keep"] == ["newest run that wrote"]
    assert decisions["r-unfinished"]["keep"] == ["unfinished"]
    assert decisions["r-newest-whole"]["keep"] == ["newest complete run"]
    assert decisions["r-recent-partial"]["keep"] == ["recent"]
    assert not any(row["deleted"] for row in decisions.values())
    assert local_files(runs) == before
    # when it runs with --yes
    done = backfill("backups", "prune", "--older-than", "30", "--backup-dir", str(runs), "--yes")
    assert done.exit_code == 0, done.output
    # then every file of the two old runs is gone, ledgers included, and every other file is still there
    gone = {name for name in before if name.split(".")[0].split("-seg")[0] in GOES}
    assert {"r-old-wrote.ledger.jsonl", "r-old-wrote.manifest.json", "r-old-wrote.jsonl.gz",
            "r-old-wrote.report.json", "r-old-partial-seg0of2.manifest.json"} <= gone
    assert local_files(runs) == before - gone
    # and the backups listing no longer shows them
    listed = backfill("backups", "--backup-dir", str(runs), "--json")
    assert {row["run"] for row in listed.json()} == set(RUNS) - GOES


@pytest.mark.needs_aws(reason="needs S3 on the same endpoint as DynamoDB; DynamoDB Local has no S3")
def test_prune_on_s3_deletes_every_object_of_an_old_run_ledger_parts_included(dynamodb, live_settings, backfill):
    # given the same runs in an s3:// run store on the moto server
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=live_settings.endpoint_url)
    s3.create_bucket(Bucket="runs")
    store = open_store("s3://runs/prod", endpoint_url=live_settings.endpoint_url)
    seed(dynamodb, live_settings, events=4, participants=4, malformed=0)
    build_runs(dynamodb, live_settings.table("events"), store)

    def keys() -> set[str]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket="runs", Prefix="prod/")
        return {entry["Key"] for page in pages for entry in page.get("Contents", [])}

    before = keys()
    assert len([k for k in before if k.startswith("prod/r-old-wrote.ledger.jsonl/")]) == 2
    # when prune runs with --yes
    done = backfill("backups", "prune", "--older-than", "30", "--backup-dir", "s3://runs/prod", "--yes")
    assert done.exit_code == 0, done.output
    # then exactly the objects of the two old runs are gone (both ledger parts of the old writer)
    gone = {key for key in before if key.removeprefix("prod/").split(".")[0].split("-seg")[0] in GOES}
    assert len([k for k in gone if ".ledger.jsonl/" in k]) == 2
    assert keys() == before - gone
