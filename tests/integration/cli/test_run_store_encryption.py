"""Every object a run writes to an s3:// run store carries the encryption the user chose (or the
bucket's default) and a SHA-256 checksum: checked object by object with a raw boto3 head_object on
the moto server, independent of the store's code."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.migrate_helpers import seed

pytestmark = pytest.mark.needs_aws(reason="needs S3 and KMS on the same endpoint as DynamoDB; DynamoDB Local has neither")

BUCKET = "runs"
PREFIX = "prod/backfill/"
STORE = f"s3://{BUCKET}/{PREFIX.rstrip('/')}"
BAD_INPUT = 2


@pytest.fixture
def s3(live_settings: Any) -> Any:
    client = boto3.client("s3", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url)
    client.create_bucket(Bucket=BUCKET, **({} if live_settings.region == "us-east-1" else
                         {"CreateBucketConfiguration": {"LocationConstraint": live_settings.region}}))
    return client


@pytest.fixture
def kms_key(live_settings: Any) -> str:
    kms = boto3.client("kms", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url)
    return str(kms.create_key(Description="backfill run store")["KeyMetadata"]["Arn"])


def heads(s3: Any) -> dict[str, dict[str, Any]]:
    """key -> head_object (with the checksum) of every object under the store's prefix."""
    keys = [entry["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX)
            for entry in page.get("Contents", [])]
    return {key.removeprefix(PREFIX): s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED") for key in keys}


def migrate_and_restore(dynamodb: Any, live_settings: Any, backfill: Any, *encryption: str) -> dict[str, Any]:
    seed(dynamodb, live_settings, events=5, participants=10, malformed=0)
    migrated = backfill("migrate", "--yes", "--json", "--backup-dir", STORE, *encryption)
    assert migrated.exit_code == 0, migrated.output
    report: dict[str, Any] = migrated.json()
    restored = backfill("restore", report["backup_file"], "--yes", "--backup-dir", STORE, *encryption)
    assert restored.exit_code == 0, restored.output
    return report


def test_every_object_is_encrypted_with_the_chosen_kms_key_and_checksummed(dynamodb, live_settings, backfill, s3,
                                                                           kms_key):
    # when a migration and its restore run with --sse-kms-key-id KEY
    report = migrate_and_restore(dynamodb, live_settings, backfill, "--sse-kms-key-id", kms_key)
    # then backup, manifest, ledger parts and reports (migrate's and restore's) are all aws:kms with that key
    objects = heads(s3)
    run = report["run_id"]
    names = set(objects)
    assert {f"{run}.jsonl.gz", f"{run}.manifest.json", f"{run}.report.json"} <= names
    assert any(name.startswith(f"{run}.ledger.jsonl/") for name in names)
    assert any("restore" in name for name in names), names
    assert {(head["ServerSideEncryption"], head.get("SSEKMSKeyId")) for head in objects.values()} == {("aws:kms", kms_key)}
    # and each carries the SHA-256 checksum it was uploaded with
    assert all(head.get("ChecksumSHA256") for head in objects.values()), objects


def test_aes256_is_asked_for_on_every_object(dynamodb, live_settings, backfill, s3):
    migrate_and_restore(dynamodb, live_settings, backfill, "--sse", "AES256")
    assert {head["ServerSideEncryption"] for head in heads(s3).values()} == {"AES256"}


def test_without_an_option_the_buckets_default_encryption_applies(dynamodb, live_settings, backfill, s3, kms_key):
    # given a bucket whose default encryption is a KMS key
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}}]})
    # when a run names no encryption, then every object is encrypted as the bucket says
    migrate_and_restore(dynamodb, live_settings, backfill)
    objects = heads(s3)
    assert objects and {head["ServerSideEncryption"] for head in objects.values()} == {"aws:kms"}


@pytest.mark.parametrize(("args", "words"), [
    (("--sse", "AES256", "--backup-dir", "runs"), "is for an s3:// run store"),
    (("--sse", "AES256", "--sse-kms-key-id", "alias/x", "--backup-dir", STORE), "needs --sse aws:kms"),
], ids=["local store", "key without kms"])
def test_an_encryption_choice_that_cannot_apply_is_refused(backfill, args, words):
    result = backfill("migrate", "--yes", *args)
    [error] = result.errors()
    assert result.exit_code == BAD_INPUT, result.output
    assert words in error


def test_a_control_record_is_encrypted_with_the_chosen_key(dynamodb, live_settings, backfill, s3, kms_key):
    # given a run in the store that looks unfinished (its checkpoint removed behind its back)
    seed(dynamodb, live_settings, events=3, participants=3, malformed=0)
    migrated = backfill("migrate", "--yes", "--json", "--backup-dir", STORE, "--run-id", "steered")
    assert migrated.exit_code == 0, migrated.output
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}steered.checkpoint.json")
    # when it is paused with the run store's key
    paused = backfill("control", "steered", "pause", "--no-wait", "--backup-dir", STORE, "--sse-kms-key-id", kms_key)
    assert paused.exit_code == 0, paused.output
    # then the control record is encrypted with that key and checksummed
    [control] = [head for name, head in heads(s3).items() if name.endswith(".control.json")]
    assert (control["ServerSideEncryption"], control["SSEKMSKeyId"]) == ("aws:kms", kms_key)
    assert control.get("ChecksumSHA256")
