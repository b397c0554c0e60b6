"""The two ways a stream record can fail, and which one an exception is.

A record that fails *permanently* can never be applied as it is (refused by the upgrade rule, keys
not of this table, an image that cannot be decoded, a bug met on its data): it is recorded in the
failures table and the shard moves on. Retrying it would block the shard until the record ages
out of the stream (24 h) and still not apply it.

A record that fails *for retry* met a condition outside itself: throttling, contention with other
writers, DynamoDB unreachable or misconfigured. It is a batch item failure (or the whole batch
is retried when partial responses are off) and succeeds once the condition passes.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

# A request DynamoDB rejects as invalid is rejected again on every retry (e.g. an item that
# the upgrade would grow past 400 KB).
_PERMANENT_CLIENT_ERRORS = frozenset({"ValidationException", "SerializationException"})


class PermanentFailure(Exception):
    """The record can never be applied as it is; ``reasons`` say why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class RetryableFailure(Exception):
    """The record met a transient condition (contention); retried with its batch."""


def is_retryable(error: BaseException) -> bool:
    """True for errors a retry can cure: contention and DynamoDB errors about the service,
    not the request (throttling, 5xx, network, a table or permission not there yet)."""
    if isinstance(error, RetryableFailure | BotoCoreError):
        return True
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") not in _PERMANENT_CLIENT_ERRORS
    return False


def reasons_of(error: BaseException) -> list[str]:
    """Why a permanent failure happened, for the failures table."""
    if isinstance(error, PermanentFailure):
        return list(error.reasons)
    return [f"{type(error).__name__} while handling the record: {error}"]
