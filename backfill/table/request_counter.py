"""Count the DynamoDB requests a client makes, per operation, via botocore's event hooks.

``calls`` counts API calls (``before-call``: one per client method call); ``sends`` counts HTTP
requests (``before-send``: every attempt, so retries after throttling show up as sends > calls).
Used by the migrate report and by benchmarks (requests per migrated event).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._sends: Counter[str] = Counter()
        self._attached: list[DynamoDBClient] = []

    def attach(self, client: DynamoDBClient) -> RequestCounter:
        """Start counting the requests of ``client`` (several clients may share one counter)."""
        events = client.meta.events
        events.register("before-call", self._on_call, unique_id=f"request-counter-call-{id(self)}")
        events.register("before-send", self._on_send, unique_id=f"request-counter-send-{id(self)}")
        self._attached.append(client)
        return self

    def detach(self) -> None:
        for client in self._attached:
            client.meta.events.unregister("before-call", unique_id=f"request-counter-call-{id(self)}")
            client.meta.events.unregister("before-send", unique_id=f"request-counter-send-{id(self)}")
        self._attached.clear()

    def _on_call(self, model: Any = None, **_: Any) -> None:
        with self._lock:
            self._calls[model.name if model is not None else "?"] += 1

    def _on_send(self, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1] or "?"
        with self._lock:
            self._sends[operation] += 1

    def calls(self) -> dict[str, int]:
        """API calls per operation name (e.g. {"Scan": 8, "UpdateItem": 200})."""
        with self._lock:
            return dict(self._calls)

    def sends(self) -> dict[str, int]:
        """HTTP requests per operation, retries included."""
        with self._lock:
            return dict(self._sends)

    def total_calls(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    def __enter__(self) -> RequestCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()
