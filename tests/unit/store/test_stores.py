"""Both run stores behave the same: whole objects only, streamed writes, logs in append order."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from backfill.run.store import LocalStore, RunStore, S3Store, StoreError, open_store, split_location
from backfill.run.store.s3 import _MultipartWriter


@pytest.fixture(params=["local", "s3"])
def store(request: Any, tmp_path: Any, aws: None) -> RunStore:
    if request.param == "local":
        return LocalStore(tmp_path / "runs")
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="runs")
    return S3Store("s3://runs/team/a", client)


def test_written_objects_are_listed_read_back_and_replaced(store):
    # given two objects, one written twice
    store.write_bytes("r1.manifest.json", b"{}")
    store.write_bytes("r1.jsonl.gz", b"old")
    store.write_bytes("r1.jsonl.gz", b"new")
    # then both are there with their last content, listed by suffix
    assert store.read_bytes("r1.jsonl.gz") == b"new"
    assert store.names(".manifest.json") == ["r1.manifest.json"]
    assert store.exists("r1.jsonl.gz") and not store.exists("r2.jsonl.gz")


def test_a_failed_streamed_write_leaves_no_object(store):
    # when the writing block raises half way
    with pytest.raises(RuntimeError), store.open_write("half.jsonl.gz") as handle:
        handle.write(b"some data")
        raise RuntimeError("scan died")
    # then nothing by that name (or a temporary of it) is visible
    assert not store.exists("half.jsonl.gz") and store.names() == []


def test_log_lines_come_back_in_append_order_across_attempts(store):
    # given two attempts appending to the same log, the first from four threads
    first = store.append_log("r1.ledger.jsonl")
    threads = [threading.Thread(target=lambda n=n: [first.append(f"{n}-{i}") for i in range(25)]) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.close()
    second = store.append_log("r1.ledger.jsonl")
    second.append("last")
    second.close()
    # then every line is read back, each thread's in its order, the second attempt's last
    lines = [line.text for line in store.read_log("r1.ledger.jsonl")]
    assert len(lines) == 101 and lines[-1] == "last"
    for n in range(4):
        assert [x for x in lines if x.startswith(f"{n}-")] == [f"{n}-{i}" for i in range(25)]


def test_large_objects_are_uploaded_in_parts_and_only_visible_once_complete(aws):
    # given a multipart writer with small parts
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="runs")
    writer = _MultipartWriter(client, "runs", "big", part_size=5 * 1024 * 1024)
    writer.write(b"x" * (11 * 1024 * 1024))
    # then nothing is visible before commit, and all bytes after
    assert client.list_objects_v2(Bucket="runs").get("KeyCount") == 0
    writer.commit()
    assert client.get_object(Bucket="runs", Key="big")["ContentLength"] == 11 * 1024 * 1024


def test_locations_split_and_a_missing_bucket_is_named(aws):
    assert split_location("s3://b/p/q/r1.jsonl.gz") == ("s3://b/p/q", "r1.jsonl.gz")
    assert split_location("backups/r1.jsonl.gz") == ("backups", "r1.jsonl.gz")
    store = open_store("s3://no-such-bucket/x")
    with pytest.raises(StoreError, match="no-such-bucket"):
        store.write_bytes("a", b"1")
