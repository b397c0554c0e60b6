"""An S3 object that changed after it was written (its bytes no longer match the SHA-256 checksum
it was uploaded with) is refused on read, naming the object."""

from __future__ import annotations

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from backfill.errors import ExitCode, explain
from backfill.run.store import S3Store, StoreError


def test_an_object_whose_bytes_changed_after_upload_is_refused(aws):
    # given a checkpoint written to the store, then altered behind S3's back (moto's stored bytes)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="runs")
    store = S3Store("s3://runs/team", client)
    store.write_bytes("r1.checkpoint.json", b'{"done": 10}')
    stored = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets["runs"].keys["team/r1.checkpoint.json"]
    assert stored.checksum_algorithm == "SHA256"
    stored.value = b'{"done": 99}'
    # when it is read, then the mismatch is named instead of the altered bytes being returned
    with pytest.raises(StoreError, match=r"s3://runs/team/r1.checkpoint.json does not match its SHA-256 checksum") as raised:
        store.read_bytes("r1.checkpoint.json")
    # and it is damaged input (exit 2, as the exit-code page says of a damaged ledger), not the AWS side (4)
    assert explain(raised.value).exit_code == ExitCode.BAD_INPUT


def test_a_multipart_object_carries_a_checksum_of_its_parts_and_reads_back_whole(aws):
    # given an object uploaded in three parts (each part checksummed on upload)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="runs")
    store = S3Store("s3://runs/team", client)
    data = bytes(range(256)) * (11 * 4096)  # 11 MiB
    with store.open_write("r1.jsonl.gz") as handle:
        handle.write(data)
    # then S3 holds a SHA-256 checksum for it, and the read returns every byte
    head = client.head_object(Bucket="runs", Key="team/r1.jsonl.gz", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"]
    assert store.read_bytes("r1.jsonl.gz") == data


def test_a_server_that_returns_no_part_checksums_still_completes_a_multipart_upload():
    # given an S3-compatible server that ignores checksums (s3rver 3.7.1 answers UploadPart with an
    # ETag only; it also accepts a wrong checksum and never returns one), played by botocore's Stubber
    from botocore.stub import ANY, Stubber

    from backfill.run.store.s3 import _MultipartWriter

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stub:
        stub.add_response("create_multipart_upload", {"UploadId": "u1"},
                          {"Bucket": "runs", "Key": "team/big", "ChecksumAlgorithm": "SHA256"})
        for number in (1, 2):
            stub.add_response("upload_part", {"ETag": f'"e{number}"'},
                              {"Bucket": "runs", "Key": "team/big", "UploadId": "u1", "PartNumber": number,
                               "Body": ANY, "ChecksumAlgorithm": "SHA256"})
        # then the upload is completed with the parts it has (their ETags), not a KeyError
        stub.add_response("complete_multipart_upload", {},
                          {"Bucket": "runs", "Key": "team/big", "UploadId": "u1",
                           "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": '"e1"'},
                                                         {"PartNumber": 2, "ETag": '"e2"'}]}})
        writer = _MultipartWriter(client, "runs", "team/big", part_size=4)
        writer.write(b"12345678")
        writer.commit()
        stub.assert_no_pending_responses()
