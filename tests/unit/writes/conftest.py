"""A real DynamoDB client with botocore's Stubber: each test scripts DynamoDB's answers
(including ConditionalCheckFailedException with the item as it is now), and every request the
code sends is recorded exactly as it leaves the client."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.backoff import Backoff
from chalicelib.items import to_typed

CREATED = Decimal(1_700_000_000_000)


def legacy(**overrides: Any) -> dict[str, Any]:
    item = {"eventId": "e1", "name": "Quiz", "status": "waiting", "createdAt": CREATED}
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


class Stubbed:
    def __init__(self) -> None:
        self.client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stubber = Stubber(self.client)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.client.meta.events.register("provide-client-params.dynamodb.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.sent.append((model.name, dict(params)))

    def sent_of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.sent if name == operation]

    def condition_fails(self, now: dict[str, Any] | None) -> None:
        """The next UpdateItem fails its condition; DynamoDB returns ``now`` (None: item gone)."""
        fields = {"Item": to_typed(now)} if now is not None else None
        self.stubber.add_client_error(
            "update_item", "ConditionalCheckFailedException", "The conditional request failed",
            400, modeled_fields=fields,
        )

    def update_succeeds(self) -> None:
        self.stubber.add_response("update_item", {})

    def get_returns(self, item: dict[str, Any] | None) -> None:
        self.stubber.add_response("get_item", {"Item": to_typed(item)} if item is not None else {})

    def count_returns(self, count: int) -> None:
        self.stubber.add_response("query", {"Count": count, "ScannedCount": count})


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    stub = Stubbed()
    with stub.stubber:
        yield stub
    stub.stubber.assert_no_pending_responses()


class Waits:
    """A Backoff whose sleeps are recorded, not slept, with a fixed jitter."""

    def __init__(self, jitter: float = 0.5) -> None:
        self.slept: list[float] = []
        self.backoff = Backoff(sleep=self.slept.append, jitter=lambda: jitter)


@pytest.fixture
def waits() -> Waits:
    return Waits()
