"""What a worker's writes cost the table, measured from DynamoDB's own answers: every write asks
for ``ReturnConsumedCapacity=TOTAL`` (added through botocore's event hooks, so the code that
writes is unchanged) and the units are summed; every throttled attempt botocore retries is
counted. ``backfill control RUN status`` shows both."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

WRITE_OPERATIONS = ("UpdateItem", "PutItem", "DeleteItem")
THROTTLE_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


class CapacityMeter:
    def __init__(self, *, on_units: Callable[[float], None] = lambda units: None,
                 on_throttle: Callable[[], None] = lambda: None) -> None:
        """``on_units(units)`` after every write, ``on_throttle()`` after every throttled attempt
        (the capacity governor spends and backs off by them)."""
        self.on_units, self.on_throttle = on_units, on_throttle
        self._lock = threading.Lock()
        self.write_units = 0.0
        self.throttled = 0
        self._clients: list[DynamoDBClient] = []

    def attach(self, client: DynamoDBClient) -> CapacityMeter:
        events = client.meta.events
        for operation in WRITE_OPERATIONS:
            events.register(f"provide-client-params.dynamodb.{operation}", _ask_for_capacity,
                            unique_id=f"capacity-ask-{id(self)}-{operation}")
            events.register(f"after-call.dynamodb.{operation}", self._on_write,
                            unique_id=f"capacity-sum-{id(self)}-{operation}")
        events.register("needs-retry.dynamodb", self._on_retry_check, unique_id=f"capacity-throttle-{id(self)}")
        self._clients.append(client)
        return self

    def detach(self) -> None:
        for client in self._clients:
            events = client.meta.events
            for operation in WRITE_OPERATIONS:
                events.unregister(f"provide-client-params.dynamodb.{operation}",
                                  unique_id=f"capacity-ask-{id(self)}-{operation}")
                events.unregister(f"after-call.dynamodb.{operation}", unique_id=f"capacity-sum-{id(self)}-{operation}")
            events.unregister("needs-retry.dynamodb", unique_id=f"capacity-throttle-{id(self)}")
        self._clients.clear()

    def _on_write(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        consumed = (parsed or {}).get("ConsumedCapacity") or {}
        units = consumed.get("CapacityUnits", consumed.get("WriteCapacityUnits", 0.0))
        with self._lock:
            self.write_units += float(units or 0.0)
        self.on_units(float(units or 0.0))

    def _on_retry_check(self, response: Any = None, **_: Any) -> None:
        # Called for every attempt before botocore decides on a retry; returning None leaves
        # that decision to botocore.
        if not response:
            return
        code = response[1].get("Error", {}).get("Code") if isinstance(response[1], dict) else None
        if code in THROTTLE_CODES:
            with self._lock:
                self.throttled += 1
            self.on_throttle()

    def figures(self) -> tuple[float, int]:
        """(write units consumed, throttled attempts) so far."""
        with self._lock:
            return self.write_units, self.throttled

    def __enter__(self) -> CapacityMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()


def _ask_for_capacity(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("ReturnConsumedCapacity", "TOTAL")
