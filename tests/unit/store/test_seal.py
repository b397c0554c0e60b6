"""Sealed runs (issue 32, What to build 3): each checkpoint save seals the checkpoint and every ledger
part; restore and resume check the seal before reading, so a changed, missing or extra part, or a
changed checkpoint, is refused before any write (SealError, exit 2). A run that did not complete may
have an unsealed tail (an attempt killed between two saves); one that completed may not."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from backfill.errors import ExitCode
from backfill.run.checkpoint import Checkpoint, load_checkpoint
from backfill.run.ledger import Ledger
from backfill.run.seal import SealError, check_run, write_seal
from backfill.run.store import LocalStore, RunStore, S3Store
from backfill.run.store.s3 import attempt_of

RUN = "r1"
LEDGER = f"{RUN}.ledger.jsonl"
CHECKPOINT = f"{RUN}.checkpoint.json"


@pytest.fixture(params=["local", "s3"])
def store(request: Any, tmp_path: Any, aws: None) -> RunStore:
    if request.param == "local":
        return LocalStore(tmp_path / "runs")
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="runs")
    return S3Store("s3://runs/team", client)


def run_once(store: RunStore, *, completed: bool, attempts: int = 2) -> None:
    """A run as migrate leaves it: sealed at creation, then per attempt ledger lines and checkpoint saves."""
    write_seal(store, RUN, checkpoint=(), ledger=None)
    checkpoint = Checkpoint(RUN, {})
    for attempt in range(attempts):
        with Ledger(store, LEDGER) as ledger:
            for n in range(3):
                ledger.record(f"e{attempt}-{n}", {"status": "live"}, {"eventId": f"e{attempt}-{n}"})
                checkpoint.segment(0).finish(attempt * 3 + n, lambda tally: None)
                checkpoint.save(store, CHECKPOINT, ledger=ledger)
    checkpoint.completed = completed
    checkpoint.save(store, CHECKPOINT, ledger=ledger)


def parts(store: RunStore) -> list[str]:
    return store.log_parts(LEDGER)


def refused(store: RunStore, *words: str) -> None:
    with pytest.raises(SealError) as raised:
        check_run(store, RUN, sealed=True)
    for word in words:
        assert word in str(raised.value)
    assert raised.value.exit_code == ExitCode.BAD_INPUT


def test_a_run_as_written_passes(store):
    run_once(store, completed=True)
    assert check_run(store, RUN, sealed=True).unsealed_tail == ""
    assert load_checkpoint(store, CHECKPOINT, RUN).completed


def test_a_changed_ledger_part_is_refused(store):
    run_once(store, completed=True)
    part = parts(store)[0]
    data = store.read_bytes(part)
    store.write_bytes(part, data.replace(b"live", b"LIVE", 1))
    refused(store, RUN, store.uri(attempt_of(part)), "changed after the run sealed it")


def test_a_missing_ledger_part_is_refused(store):
    run_once(store, completed=True)
    store.delete(parts(store)[0])
    refused(store, "missing")


def test_an_extra_ledger_line_of_a_completed_run_is_refused(store):
    run_once(store, completed=True)
    log = store.append_log(LEDGER)  # a new attempt nobody sealed: a line appended by someone else
    log.append('{"item": "x"}')
    log.close()
    refused(store, "though the run completed")


def test_an_unfinished_runs_unsealed_tail_is_accepted_and_said(store):
    run_once(store, completed=False)
    log = store.append_log(LEDGER)  # the lines of an attempt killed before its next save
    log.append('{"item": "x"}')
    log.close()
    tail = check_run(store, RUN, sealed=True).unsealed_tail
    assert "after the last seal" in tail or "is not in the seal" in tail, tail


def test_a_changed_checkpoint_is_refused(store):
    run_once(store, completed=False)
    record = json.loads(store.read_bytes(CHECKPOINT))
    record["segments"]["0"]["done"] = 1000
    store.write_bytes(CHECKPOINT, json.dumps(record).encode())
    refused(store, store.uri(CHECKPOINT), "changed after the run sealed it")


def test_a_crash_between_seal_and_checkpoint_leaves_a_valid_run(store):
    # given a save that sealed the new checkpoint but died before writing it: the old one is still valid
    run_once(store, completed=False)
    old = store.read_bytes(CHECKPOINT)
    checkpoint = load_checkpoint(store, CHECKPOINT, RUN)
    checkpoint.segment(0).finish(6, lambda tally: None)
    checkpoint.save(store, CHECKPOINT)
    store.write_bytes(CHECKPOINT, old)
    check_run(store, RUN, sealed=True)


def test_a_missing_seal_is_refused_when_the_manifest_says_sealed(store):
    run_once(store, completed=True)
    store.delete(f"{RUN}.seal.json")
    refused(store, "seal", "missing")
    assert not check_run(store, RUN, sealed=False).sealed  # a run from before sealing


def test_a_resealed_forgery_passes_the_seal(store):
    # what the seal does not protect against: someone who rewrites the part and the seal
    run_once(store, completed=True)
    part = parts(store)[0]
    store.write_bytes(part, store.read_bytes(part).replace(b"live", b"LIVE", 1))
    resealed(store)
    check_run(store, RUN, sealed=True)


def resealed(store: RunStore) -> None:
    """The seal rewritten for the ledger as it now is (what the tool itself would seal)."""
    log = store.append_log(LEDGER)
    seal = json.loads(store.read_bytes(f"{RUN}.seal.json"))
    seal["ledger"] = log.seal_state()
    log.close()
    store.write_bytes(f"{RUN}.seal.json", json.dumps(seal).encode())


def test_many_s3_parts_make_a_seal_of_one_entry_per_attempt(store):
    # the seal is rewritten at every checkpoint save: it must not grow with the number of parts
    run_once(store, completed=True, attempts=3)
    ledger = json.loads(store.read_bytes(f"{RUN}.seal.json"))["ledger"]
    assert len(ledger.get("attempts") or ledger.get("parts")) <= 3 and len(parts(store)) >= 1


def test_a_resumed_s3_ledger_reads_only_the_parts_its_seal_does_not_cover(store, monkeypatch):
    # given a run killed after its last save: one part written after the seal
    run_once(store, completed=False)
    if not isinstance(store, S3Store):
        pytest.skip("a local ledger is one file, hashed once when opened")
    killed = store.append_log(LEDGER)
    killed.append('{"item": "x"}')
    sealed = json.loads(store.read_bytes(f"{RUN}.seal.json"))["ledger"]
    read: list[str] = []
    original = store.read_bytes
    monkeypatch.setattr(store, "read_bytes", lambda name: read.append(name) or original(name))
    # when the resume opens the ledger with what the seal says of it
    resumed = store.append_log(LEDGER, sealed)
    # then it read only the killed attempt's part, and its seal covers every part, so a completed
    # run checks clean
    assert len(read) == 1 and read[0] in parts(store)
    monkeypatch.undo()
    checkpoint = load_checkpoint(store, CHECKPOINT, RUN)
    checkpoint.completed = True
    checkpoint.save(store, CHECKPOINT, ledger=resumed)
    assert check_run(store, RUN, sealed=True).unsealed_tail == ""
