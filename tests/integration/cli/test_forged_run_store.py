"""A run store someone else changed cannot make restore write what the migration did not (issue 32).

The migration's own run, then one ledger line forged: it names an attribute the declaration does not
own (``name``), with the live value in ``changes`` so the item looks "still as migrated", and an
attacker's value in ``read`` (what restore would put back). Locally, and on S3 (moto server) as a
part rewritten with a valid SHA-256 checksum. Restore refuses with one ``Error:`` line naming the run,
the part, the item and the attribute, exit 2, and the table is unchanged (compared by raw scan)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.integration.migrate_helpers import raw_items, seed

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


def check_refused(result: Any, dynamodb: Any, table: str, before: dict[str, Any], where: str) -> None:
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert "'name'" in error and RUN in error and where in error and "does not own" in error, error
    assert raw_items(dynamodb, table) == before
    assert ATTACKER not in result.output


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
        check_refused(result, dynamodb, table, before, f"{ledger} line 1")


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
    check_refused(result, dynamodb, table, before, f"s3://{BUCKET}/{key} line 1")


