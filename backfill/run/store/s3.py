"""``S3Store``: the run store as ``s3://bucket/prefix``.

- Whole objects only: S3 shows an object once its PUT (or multipart upload) completes, never a
  part of it, so "data first, manifest last" keeps a backup invisible until it is complete.
- Large objects (backup data) are streamed as a multipart upload in fixed-size parts: memory
  stays at one part whatever the table size; an aborted upload leaves no object.
- Logs (the migration ledger) cannot be appended to in S3, so a log is a series of objects
  ``NAME/ATTEMPT-SEQ.jsonl``. ``append`` is a group commit: the line joins the open batch and the
  call returns only once an object holding it has been PUT. Concurrent writers share one PUT;
  a writer never sends its DynamoDB write before its ledger line is in S3 ("recorded before
  written"). A killed process loses only lines whose writes were never sent.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from backfill.run.store.base import StoreError

PART_SIZE = 8 * 1024 * 1024  # S3 parts must be >= 5 MiB (all but the last)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix/") (prefix empty or ending in /)."""
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise StoreError(f"{uri!r} names no bucket (expected s3://bucket/prefix)")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class _MultipartWriter(io.RawIOBase):
    """A write-only stream that uploads fixed-size parts; ``commit`` makes the object visible."""

    def __init__(self, client: Any, bucket: str, key: str, part_size: int = PART_SIZE) -> None:
        super().__init__()
        self._client, self._bucket, self._key, self._part_size = client, bucket, key, part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        while len(self._buffer) >= self._part_size:
            self._upload_part(bytes(self._buffer[: self._part_size]))
            del self._buffer[: self._part_size]
        return len(data)

    def _upload_part(self, body: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)["UploadId"]
        number = len(self._parts) + 1
        response = self._client.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                            PartNumber=number, Body=body)
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def commit(self) -> None:
        if self._upload_id is None:  # small object: one PUT
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
            return
        if self._buffer:
            self._upload_part(bytes(self._buffer))
        self._client.complete_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                               MultipartUpload={"Parts": self._parts})

    def abort(self) -> None:
        if self._upload_id is not None:
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)


class S3AppendLog:
    """Group commit of log lines into numbered objects (see the module doc)."""

    def __init__(self, store: S3Store, name: str) -> None:
        self._store, self._name = store, name
        self._attempt = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time_ns() % 1_000_000_000:09d}"
        self._cond = threading.Condition()
        self._pending: list[str] = []
        self._queued = 0  # lines handed to append so far
        self._durable = 0  # lines in S3 so far
        self._flushing = False
        self._error: BaseException | None = None
        self._sequence = 0

    def append(self, line: str) -> None:
        with self._cond:
            self._pending.append(line)
            self._queued += 1
            mine = self._queued
            while self._durable < mine:
                if self._error is not None:
                    raise StoreError(f"ledger {self._store.uri(self._name)} could not be written: {self._error}")
                if self._flushing:
                    self._cond.wait()
                    continue
                batch, upto = self._pending, self._queued
                self._pending, self._flushing = [], True
                self._sequence += 1
                key = f"{self._name}/{self._attempt}-{self._sequence:09d}.jsonl"
                self._cond.release()
                try:
                    self._store.write_bytes(key, "".join(f"{entry}\n" for entry in batch).encode())
                except BaseException as error:
                    self._cond.acquire()
                    self._error, self._flushing = error, False
                    self._cond.notify_all()
                    raise
                self._cond.acquire()
                self._durable, self._flushing = upto, False
                self._cond.notify_all()

    def close(self) -> None:
        pass  # every line is in S3 once its append returned


class S3Store:
    def __init__(self, uri: str, client: Any) -> None:
        self.location = uri.rstrip("/")
        self.bucket, self.prefix = split_uri(uri)
        self.client = client

    def key(self, name: str) -> str:
        return self.prefix + name

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error(f"cannot read {self.uri(name)}", error) from error

    def names(self, suffix: str = "") -> list[str]:
        return sorted(name for name in self._list(self.prefix, delimiter=True) if name.endswith(suffix))

    def _list(self, prefix: str, *, delimiter: bool) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        try:
            for page in paginator.paginate(**kwargs):
                for entry in page.get("Contents", []):
                    yield entry["Key"][len(self.prefix):]
        except (ClientError, BotoCoreError) as error:
            raise self._error(f"cannot list s3://{self.bucket}/{prefix}", error) from error

    def read_bytes(self, name: str) -> bytes:
        with self.open_read(name) as body:
            return body.read()

    @contextlib.contextmanager
    def open_read(self, name: str) -> Iterator[IO[bytes]]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
        except (ClientError, BotoCoreError) as error:
            raise self._error(f"cannot read {self.uri(name)}", error) from error
        try:
            yield body
        finally:
            body.close()

    def write_bytes(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)
        except (ClientError, BotoCoreError) as error:
            raise self._error(f"cannot write {self.uri(name)}", error) from error

    @contextlib.contextmanager
    def open_write(self, name: str) -> Iterator[IO[bytes]]:
        writer = _MultipartWriter(self.client, self.bucket, self.key(name))
        try:
            yield writer  # type: ignore[misc]  # a RawIOBase is a binary stream
            writer.commit()
        except (ClientError, BotoCoreError) as error:
            writer.abort()
            raise self._error(f"cannot write {self.uri(name)}", error) from error
        except BaseException:
            writer.abort()
            raise

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def append_log(self, name: str) -> S3AppendLog:
        return S3AppendLog(self, name)

    def read_log(self, name: str) -> Iterator[tuple[str, bool]]:
        # Parts sort by attempt then sequence; each part is a whole object, so nothing is torn.
        for part in sorted(self._list(self.key(name) + "/", delimiter=False)):
            for line in self.read_bytes(part).decode("utf-8").splitlines():
                yield line, False

    @staticmethod
    def _error(what: str, error: Exception) -> StoreError:
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            return StoreError(f"{what}: {details.get('Code')}: {details.get('Message')}")
        return StoreError(f"{what}: {error}")
