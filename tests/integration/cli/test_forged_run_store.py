"""A run store someone else changed cannot make restore write what the migration did not (issue 32).

The migration's own run, then one ledger line forged: it names an attribute the declaration does not
own (``name``), with the live value in ``changes`` so the item looks "still as migrated", and an
attacker's value in ``read`` (what restore would put back). Locally, and on S3 (moto server) as a
part rewritten with a valid SHA-256 checksum. The run's seal refuses the changed part; with the seal
forged too (someone who can rewrite every file), least authority refuses the line. Either way one
``Error:`` line naming the run and the part, exit 2, and the table unchanged (compared by raw scan)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from backfill.migrate import run_migration
from backfill.run.store import LocalStore, RunStore, S3Store
from backfill.run.store.s3 import attempt_of
from tests.integration.faults.injection import Killed, Killer
from tests.integration.migrate_helpers import options, raw_items, seed, target_for

BAD_INPUT = 2
RUN = "nightly"
BUCKET = "forged-runs"
ATTACKER = "attacker's name"


def forge(line: str) -> str:
    """The line with ``name`` restored to the attacker's value when the line is reverted."""
    record = json.loads(line)
    live_name = record["read"]["name"]
    record["changes"]["name"] = live_name  # "still as migrated": the live item matches read + changes
    record["read"]["name"] = {"S": ATTACKER}  # what restore would set name back to
    return json.dumps(record, sort_keys=True)


def reseal(store: RunStore) -> None:
    """The run's seal rewritten for its ledger as it now is: what someone who can rewrite every file
    of the store writes (computed as the tool computes it)."""
    log = store.append_log(f"{RUN}.ledger.jsonl")
    record = json.loads(store.read_bytes(f"{RUN}.seal.json"))
    record["ledger"] = log.seal_state()
    log.close()
    store.write_bytes(f"{RUN}.seal.json", json.dumps(record).encode())


def check_refused(result: Any, dynamodb: Any, table: str, before: dict[str, Any], *words: str) -> None:
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    for word in (RUN, *words):
        assert word in error, error
    assert raw_items(dynamodb, table) == before
    assert ATTACKER not in result.output


SEAL_REFUSES = ("changed after the run sealed it",)
OWNERSHIP_REFUSES = ("'name'", "does not own")


def test_a_forged_local_ledger_line_is_refused_before_any_write(dynamodb, live_settings, backfill, workdir):
    seed(dynamodb, live_settings, events=12, participants=20, malformed=0)
    runs = workdir / "runs"
    migrated = backfill("migrate", "--yes", "--run-id", RUN, "--backup-dir", str(runs))
    assert migrated.exit_code == 0, migrated.output
    table = live_settings.table("events")
    before = raw_items(dynamodb, table)
    ledger = runs / f"{RUN}.ledger.jsonl"
    lines = ledger.read_text().splitlines()
    ledger.write_text("\n".join([forge(lines[0]), *lines[1:]]) + "\n")
    for argv in (("--run", RUN), (str(runs / f"{RUN}.jsonl.gz"),)):
        result = backfill("restore", *argv, "--yes", "--backup-dir", str(runs))
        check_refused(result, dynamodb, table, before, str(ledger), *SEAL_REFUSES)
    reseal(LocalStore(runs))
    result = backfill("restore", "--run", RUN, "--yes", "--backup-dir", str(runs))
    check_refused(result, dynamodb, table, before, f"{ledger} line 1", *OWNERSHIP_REFUSES)


@pytest.mark.moto_only(reason="needs S3 on the same endpoint as DynamoDB; DynamoDB Local has no S3")
def test_a_forged_s3_ledger_part_with_a_valid_checksum_is_refused(dynamodb, live_settings, backfill):
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=live_settings.endpoint_url)
    s3.create_bucket(Bucket=BUCKET)
    store = f"s3://{BUCKET}/prod"
    seed(dynamodb, live_settings, events=12, participants=20, malformed=0)
    migrated = backfill("migrate", "--yes", "--run-id", RUN, "--backup-dir", store)
    assert migrated.exit_code == 0, migrated.output
    table = live_settings.table("events")
    before = raw_items(dynamodb, table)
    parts = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"prod/{RUN}.ledger.jsonl/")["Contents"]
    key = sorted(part["Key"] for part in parts)[0]
    lines = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
    body = ("\n".join([forge(lines[0]), *lines[1:]]) + "\n").encode()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, ChecksumAlgorithm="SHA256")  # a valid checksum
    result = backfill("restore", "--run", RUN, "--yes", "--backup-dir", store)
    check_refused(result, dynamodb, table, before, f"s3://{BUCKET}/{attempt_of(key)}-*", *SEAL_REFUSES)
    reseal(S3Store(store, s3))
    result = backfill("restore", "--run", RUN, "--yes", "--backup-dir", store)
    check_refused(result, dynamodb, table, before, f"s3://{BUCKET}/{key} line 1", *OWNERSHIP_REFUSES)




def interrupted_run(dynamodb: Any, live_settings: Any, runs: Path) -> tuple[str, Path]:
    """A run killed after 10 writes (in process), its checkpoint saved: (run id, checkpoint path)."""
    seed(dynamodb, live_settings, events=30, participants=40, malformed=0)
    dying = target_for(live_settings)
    Killer("UpdateItem", after=10).attach(dying.dynamodb)
    with pytest.raises(Killed):
        run_migration(dying, options(runs, checkpoint_every=1))
    [manifest] = runs.glob("*.manifest.json")
    run_id = manifest.name.removesuffix(".manifest.json")
    return run_id, runs / f"{run_id}.checkpoint.json"


def reseal_checkpoint(runs: Path, run_id: str, data: bytes) -> None:
    seal = runs / f"{run_id}.seal.json"
    record = json.loads(seal.read_bytes())
    record["checkpoint"] = [hashlib.sha256(data).hexdigest()]
    seal.write_text(json.dumps(record))


@pytest.mark.parametrize("forgery", ["done above the item count", "a segment the backup does not hold"])
def test_a_forged_checkpoint_is_refused_before_a_resume_writes(dynamodb, live_settings, backfill, workdir, forgery):
    runs = workdir / "runs"
    run_id, checkpoint = interrupted_run(dynamodb, live_settings, runs)
    table = live_settings.table("events")
    before = raw_items(dynamodb, table)
    record = json.loads(checkpoint.read_bytes())
    segment = sorted(record["segments"])[0]
    if forgery == "done above the item count":
        record["segments"][segment]["done"] = 31  # the backup holds 30: a resume would skip everything left
    else:
        record["segments"]["7"] = record["segments"].pop(segment)
    forged = json.dumps(record).encode()
    checkpoint.write_bytes(forged)
    resume = ("migrate", "--resume", run_id, "--yes", "--backup-dir", str(runs))
    result = backfill(*resume)
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT and "changed after the run sealed it" in error and str(checkpoint) in error
    reseal_checkpoint(runs, run_id, forged)  # someone who can rewrite every file of the store
    result = backfill(*resume)
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT and "is damaged" in error and str(checkpoint) in error, result.output
    assert raw_items(dynamodb, table) == before


def test_a_malformed_control_record_is_one_error_naming_the_file(dynamodb, live_settings, backfill, workdir):
    seed(dynamodb, live_settings, events=3, participants=3, malformed=0)
    runs = workdir / "runs"
    assert backfill("migrate", "--yes", "--run-id", RUN, "--backup-dir", str(runs)).exit_code == 0
    record = runs / f"{RUN}.control.json"
    record.write_text("[]")
    for action in ("pause", "status"):
        result = backfill("control", RUN, action, "--no-wait", "--backup-dir", str(runs)) if action == "pause" else \
            backfill("control", RUN, action, "--backup-dir", str(runs))
        [error] = result.errors()
        assert result.exit_code == BAD_INPUT and str(record) in error and "not a control record" in error, result.output
    assert record.read_text() == "[]"
