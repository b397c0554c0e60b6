"""The prune rule at its edges: a checkpoint that cannot be read keeps its run; the newest complete
run is kept whatever the age; ages come from the manifests and the given time."""

from __future__ import annotations

import time

import pytest

from backfill.run.backup import read_json, write_json
from backfill.run.names import RUN_FILE_SUFFIXES, stem_of
from backfill.run.prune import plan_prune, prune
from backfill.run.store import LocalStore
from backfill.table.backup import create_backup

DAY_MS = 86_400_000


@pytest.fixture
def store(tmp_path, dynamodb, settings):
    """Three one-segment runs of the events table, 50, 40 and 30 days old, none of which wrote."""
    runs = LocalStore(tmp_path / "runs")
    now_ms = int(time.time() * 1000)
    for name, age in (("r50", 50), ("r40", 40), ("r30", 30)):
        backup = create_backup(dynamodb, settings.table("events"), runs, region="us-east-1", endpoint="test", run_id=name)
        write_json(runs, backup.manifest_name, {**read_json(runs, backup.manifest_name), "created_at_ms": now_ms - age * DAY_MS})
    return runs


def decisions(store, days=10):
    return {d.run.name: d for d in plan_prune(store, days)}


def test_only_the_newest_complete_run_is_kept_when_every_run_is_old(store):
    kept = {name: d.keep for name, d in decisions(store).items()}
    assert kept == {"r30": ("newest complete run",), "r40": (), "r50": ()}


def test_a_checkpoint_that_cannot_be_read_keeps_its_run(store):
    # given r40's checkpoint garbled (a crash mid-write of an older version, a hand edit)
    store.write_bytes("r40.checkpoint.json", b'{"completed": tr')
    # then r40 is kept as unfinished rather than guessed finished
    assert decisions(store)["r40"].keep == ("unfinished",)


def test_a_kept_run_cannot_be_pruned_and_a_pruned_run_leaves_no_file(store):
    plan = decisions(store)
    with pytest.raises(ValueError, match="r30 is kept"):
        prune(store, plan["r30"])
    prune(store, plan["r50"])
    assert not [name for name in store.names() if name.startswith("r50.")]
    assert {d.run.name for d in plan_prune(store, 10)} == {"r30", "r40"}


def test_a_run_whose_name_extends_another_keeps_its_own_files(tmp_path, dynamodb, settings):
    """Issue 32 finding 1: run ids may contain '.', so ``nightly`` is a prefix of ``nightly.v2``;
    pruning the old ``nightly`` must not take the kept ``nightly.v2``'s files with it."""
    runs = LocalStore(tmp_path / "runs")
    now_ms = int(time.time() * 1000)
    for name, age in (("nightly", 50), ("nightly.v2", 1)):
        backup = create_backup(dynamodb, settings.table("events"), runs, region="us-east-1", endpoint="test", run_id=name)
        write_json(runs, backup.manifest_name, {**read_json(runs, backup.manifest_name), "created_at_ms": now_ms - age * DAY_MS})
        write_json(runs, f"{name}.checkpoint.json", {"completed": True})
        write_json(runs, f"{name}.report.json", {})
    runs.append_log("nightly.v2.ledger.jsonl").close()
    kept_files = {name for name in runs.names() if name.startswith("nightly.v2.")}
    plan = decisions(runs)
    assert plan["nightly.v2"].keep and plan["nightly"].delete
    assert not set(plan["nightly"].files) & kept_files, "the old run claims the kept run's files"
    assert set(plan["nightly.v2"].files) == kept_files
    prune(runs, plan["nightly"])
    assert set(runs.names()) == kept_files


def test_every_run_file_name_splits_one_way_only():
    # no suffix ends another, so a name's stem is never ambiguous (nor matched by a prefix)
    for one in RUN_FILE_SUFFIXES:
        assert [other for other in RUN_FILE_SUFFIXES if other != one and one.endswith(other)] == []
        assert stem_of("nightly.v2" + one) == "nightly.v2"
    assert stem_of("nightly.v2.manifest.json.tmp") is None
