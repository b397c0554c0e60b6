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
- Every object (and every part) is written with the server-side encryption the user chose
  (``Encryption``; none chosen: the bucket's default encryption applies) and a SHA-256 checksum
  that S3 checks on arrival; reads ask for the checksum back (``ChecksumMode``) and botocore
  compares it with the bytes received (multipart objects carry a checksum of the parts' checksums,
  which botocore cannot check: a backup's data file is checked against its manifest's sha256).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final, TypedDict, cast

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from backfill.run.store.base import LogLine, StoreError

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_s3 import S3Client
    from types_boto3_s3.literals import ChecksumAlgorithmType, ServerSideEncryptionType
    from types_boto3_s3.type_defs import CompletedPartTypeDef

PART_SIZE = 8 * 1024 * 1024  # S3 parts must be >= 5 MiB (all but the last)
CHECKSUM: Final = "SHA256"  # its part checksum is the response's ChecksumSHA256
SSE_CHOICES: tuple[ServerSideEncryptionType, ...] = ("AES256", "aws:kms", "aws:kms:dsse")


class PutArgs(TypedDict, total=False):
    """The encryption and checksum arguments of PutObject and CreateMultipartUpload."""

    ChecksumAlgorithm: ChecksumAlgorithmType
    ServerSideEncryption: ServerSideEncryptionType
    SSEKMSKeyId: str


@dataclass(frozen=True)
class Encryption:
    """Server-side encryption of every object the store writes. ``algorithm`` None: nothing is
    asked for, so the bucket's default encryption applies (SSE-S3 at least, on AWS since 2023)."""

    algorithm: str | None = None  # one of SSE_CHOICES
    kms_key_id: str | None = None  # only with aws:kms or aws:kms:dsse; None: the AWS managed key

    def __post_init__(self) -> None:
        if self.algorithm is not None and self.algorithm not in SSE_CHOICES:
            raise StoreError(f"server-side encryption {self.algorithm!r} is not one of {', '.join(SSE_CHOICES)}")
        if self.kms_key_id is not None and not (self.algorithm or "").startswith("aws:kms"):
            raise StoreError(f"a KMS key ({self.kms_key_id}) needs --sse aws:kms or aws:kms:dsse, not {self.algorithm}")

    @classmethod
    def of(cls, algorithm: str | None, kms_key_id: str | None) -> Encryption:
        """From the options: a key alone means aws:kms."""
        if kms_key_id is not None and algorithm is None:
            algorithm = "aws:kms"
        return cls(algorithm, kms_key_id)

    def put_args(self) -> PutArgs:
        """The arguments of PutObject and CreateMultipartUpload."""
        args: PutArgs = {"ChecksumAlgorithm": CHECKSUM}
        for choice in SSE_CHOICES:  # the one __post_init__ checked algorithm to be
            if choice == self.algorithm:
                args["ServerSideEncryption"] = choice
        if self.kms_key_id is not None:
            args["SSEKMSKeyId"] = self.kms_key_id
        return args

    def describe(self) -> str:
        if self.algorithm is None:
            return "the bucket's default encryption"
        return self.algorithm + (f" with key {self.kms_key_id}" if self.kms_key_id else "")


BUCKET_DEFAULT = Encryption()  # nothing asked for: the bucket's default encryption applies


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

    def __init__(self, client: S3Client, bucket: str, key: str, part_size: int = PART_SIZE,
                 encryption: Encryption = BUCKET_DEFAULT) -> None:
        super().__init__()
        self._client, self._bucket, self._key, self._part_size = client, bucket, key, part_size
        self._encryption = encryption
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []

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
            self._upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, **self._encryption.put_args())["UploadId"]
        number = len(self._parts) + 1
        response = self._client.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                            PartNumber=number, Body=body, ChecksumAlgorithm=CHECKSUM)
        part: CompletedPartTypeDef = {"PartNumber": number, "ETag": response["ETag"]}
        # S3 returns the part's checksum it verified; an S3-compatible server that ignores
        # checksums (s3rver) returns none, and the parts are completed by their ETags alone.
        if response.get("ChecksumSHA256"):
            part["ChecksumSHA256"] = response["ChecksumSHA256"]
        self._parts.append(part)

    def commit(self) -> None:
        if self._upload_id is None:  # small object: one PUT
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer),
                                    **self._encryption.put_args())
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

    def __init__(self, store: S3Store, name: str, sealed: dict[str, Any] | None = None) -> None:
        self._store, self._name = store, name
        self._attempt = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time_ns() % 1_000_000_000:09d}"
        self._cond = threading.Condition()
        self._pending: list[str] = []
        self._queued = 0  # lines handed to append so far
        self._durable = 0  # lines in S3 so far
        self._flushing = False
        self._error: BaseException | None = None
        self._sequence = 0
        # each attempt's parts so far as a count and a chain of their SHA-256s, earlier attempts'
        # included (read once: a resume continues their ledger); the seal stays small whatever the
        # number of parts (backfill.run.seal)
        # Attempts the seal covers start from its entries (restore checks those parts against
        # them); only parts it does not cover (a killed attempt's last ones) are read here.
        self._attempts: dict[str, tuple[int, str]] = {
            attempt: (int(entry["parts"]), str(entry["sha256"]))
            for attempt, entry in ((sealed or {}).get("attempts") or {}).items()}
        covered = dict(self._attempts)
        seen: dict[str, int] = {}
        for part in store.log_parts(name):
            attempt = attempt_of(part)
            seen[attempt] = seen.get(attempt, 0) + 1
            if seen[attempt] > covered.get(attempt, (0, ""))[0]:
                self._chain(part, store.read_bytes(part))

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
                body = "".join(f"{entry}\n" for entry in batch).encode()
                try:
                    self._store.write_bytes(key, body)
                except BaseException as error:
                    self._cond.acquire()
                    self._error, self._flushing = error, False
                    self._cond.notify_all()
                    raise
                self._cond.acquire()
                self._durable, self._flushing = upto, False
                self._chain(key, body)
                self._cond.notify_all()

    def close(self) -> None:
        pass  # every line is in S3 once its append returned

    def _chain(self, part: str, body: bytes) -> None:
        attempt = attempt_of(part)
        count, chain = self._attempts.get(attempt, (0, ""))
        self._attempts[attempt] = (count + 1, chained(chain, hashlib.sha256(body).hexdigest()))

    def seal_state(self) -> dict[str, Any]:
        with self._cond:
            return {"attempts": {attempt: {"parts": count, "sha256": chain}
                                 for attempt, (count, chain) in sorted(self._attempts.items())}}


def attempt_of(part: str) -> str:
    """``NAME/ATTEMPT-SEQ.jsonl`` -> ``NAME/ATTEMPT`` (a part's attempt; its parts sort by SEQ)."""
    return part.rsplit("-", 1)[0]


def chained(chain: str, part_sha256: str) -> str:
    """The chain of an attempt's parts' SHA-256s, one part further."""
    return hashlib.sha256((chain + part_sha256).encode()).hexdigest()


class S3Store:
    def __init__(self, uri: str, client: S3Client, *, encryption: Encryption = BUCKET_DEFAULT) -> None:
        self.location = uri.rstrip("/")
        self.bucket, self.prefix = split_uri(uri)
        self.client = client
        self.encryption = encryption

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
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name), ChecksumMode="ENABLED")["Body"]
        except (ClientError, BotoCoreError) as error:
            raise self._error(f"cannot read {self.uri(name)}", error) from error
        try:
            # botocore's StreamingBody is an io.IOBase with read(), not nominally typing's IO class
            yield cast("IO[bytes]", body)
        except FlexibleChecksumError as error:  # botocore read the whole object: it is not what was written
            # damaged data, not the AWS side failing: bad input (exit 2) like a damaged local file,
            # so the botocore error is not chained (it would make the exit code 4)
            raise StoreError(f"{self.uri(name)} does not match its SHA-256 checksum: {error}") from None
        finally:
            body.close()

    def write_bytes(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data, **self.encryption.put_args())
        except (ClientError, BotoCoreError) as error:
            raise self._error(f"cannot write {self.uri(name)}", error) from error

    @contextlib.contextmanager
    def open_write(self, name: str) -> Iterator[IO[bytes]]:
        writer = _MultipartWriter(self.client, self.bucket, self.key(name), encryption=self.encryption)
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
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))
        except (ClientError, BotoCoreError) as error:
            raise self._error(f"cannot delete {self.uri(name)}", error) from error

    def delete_log(self, name: str) -> None:
        for part in sorted(self._list(self.key(name) + "/", delimiter=False)):
            self.delete(part)

    def append_log(self, name: str, sealed: dict[str, Any] | None = None) -> S3AppendLog:
        return S3AppendLog(self, name, sealed)

    def log_parts(self, name: str) -> list[str]:
        # Parts sort by attempt then sequence; each part is a whole object, so nothing is torn.
        return sorted(self._list(self.key(name) + "/", delimiter=False))

    def read_log(self, name: str) -> Iterator[LogLine]:
        for part in self.log_parts(name):
            for number, line in enumerate(self.read_bytes(part).decode("utf-8").splitlines(), start=1):
                yield LogLine(line, False, f"{self.uri(part)} line {number}")

    @staticmethod
    def _error(what: str, error: Exception) -> StoreError:
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            return StoreError(f"{what}: {details.get('Code')}: {details.get('Message')}")
        return StoreError(f"{what}: {error}")
