"""Run stores: ``open_store("backups")`` or ``open_store("s3://bucket/prefix", session=...)``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from backfill.run.store.base import AppendLog, LogLine, RunStore, StoreError
from backfill.run.store.local import LocalStore
from backfill.run.store.s3 import BUCKET_DEFAULT, Encryption, S3Store

if TYPE_CHECKING:  # boto3's types come from the stubs, a dev dependency
    from boto3.session import Session
    from botocore.config import Config

__all__ = ["AppendLog", "Encryption", "LocalStore", "LogLine", "RunStore", "S3Store", "StoreError", "open_store",
           "split_location"]


def open_store(location: str | Path | RunStore, *, session: Session | None = None, endpoint_url: str | None = None,
               encryption: Encryption = BUCKET_DEFAULT, connect_timeout: float | None = None) -> RunStore:
    """The store at ``location``: ``s3://bucket/prefix`` or a local directory.

    S3 uses ``session`` (default: boto3's), ``endpoint_url`` (a moto server or LocalStack
    serves S3 on the same endpoint as DynamoDB) and ``encryption`` for every object it writes;
    a local directory refuses an encryption choice (its files are private instead). With
    ``connect_timeout`` an S3 endpoint that does not answer raises botocore's connection or
    timeout error within about twice that, before the store's own (retried) requests."""
    if not isinstance(location, (str, Path)):
        return location
    text = str(location)
    if not text.startswith("s3://"):
        if encryption.algorithm is not None:
            raise StoreError(f"server-side encryption ({encryption.describe()}) is for an s3:// run store; "
                             f"{text} is a local directory (its files are private to you instead)")
        return LocalStore(Path(text))
    import boto3
    from botocore.config import Config

    from chalicelib.aws import RETRY_CONFIG

    config = RETRY_CONFIG
    if endpoint_url:  # local endpoints serve buckets by path, not by host name
        config = config.merge(Config(s3={"addressing_style": "path"}))
    session = session or boto3.session.Session()
    if connect_timeout is not None:
        _check_reachable(session, endpoint_url, config, connect_timeout)
    client = session.client("s3", endpoint_url=endpoint_url, config=config)
    return S3Store(text, client, encryption=encryption)


def _check_reachable(session: Session, endpoint_url: str | None, config: Config, timeout: float) -> None:
    """One cheap request with short timeouts and two attempts (the store's client would retry a
    dead endpoint for a minute). Any answer, a refusal included, is an endpoint that answers."""
    from botocore.config import Config
    from botocore.exceptions import ClientError

    probe_config = config.merge(Config(connect_timeout=timeout, read_timeout=timeout,
                                       retries={"mode": "standard", "total_max_attempts": 2}))
    probe = session.client("s3", endpoint_url=endpoint_url, config=probe_config)
    with contextlib.suppress(ClientError):
        probe.list_buckets()


def split_location(path: str | Path) -> tuple[str, str]:
    """A file in a store (``dir/NAME`` or ``s3://bucket/prefix/NAME``) -> (store location, NAME)."""
    text = str(path)
    if text.startswith("s3://"):
        location, _, name = text.rpartition("/")
        return location, name
    given = Path(text)
    return str(given.parent), given.name
