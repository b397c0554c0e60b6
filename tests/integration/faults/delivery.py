"""At-least-once delivery faults between the local stream runner and the real handlers.

The runner reads the real streams and builds Lambda-shaped batches; these wrappers sit where
Lambda would invoke the function: they deliver a batch twice, redeliver old batches late, or
make the handler's DynamoDB calls fail half way through a batch (so the handler itself reports
the rest as batch item failures and the runner retries from the first failed record).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

from backfill.live.stream_runner import BatchHandler, StreamRunner
from chalicelib.streams import BatchResult
from chalicelib.streams.dependencies import Dependencies
from tests.integration.faults.injection import StaticBody


@dataclass
class Redelivery:
    """Delivers every batch twice, and keeps them to replay some later (out of order)."""

    seed: int
    delivered: list[tuple[BatchHandler, Mapping[str, Any]]] = field(default_factory=list)
    duplicates: int = 0
    replays: int = 0
    records: int = 0

    def install(self, runner: StreamRunner) -> Redelivery:
        for stream in runner.streams:
            stream.handle = self._wrap(stream.handle)
        return self

    def _wrap(self, handle: BatchHandler) -> BatchHandler:
        def deliver_twice(event: Mapping[str, Any], deps: Dependencies) -> BatchResult:
            handle(event, deps)
            self.duplicates += 1
            self.records += 2 * len(event["Records"])
            self.delivered.append((handle, event))
            return handle(event, deps)

        return deliver_twice

    def replay(self, deps: Dependencies, fraction: float) -> int:
        """Deliver a seeded random sample of past batches again, in shuffled order."""
        rng = random.Random(self.seed)
        sample = [entry for entry in self.delivered if rng.random() < fraction]
        rng.shuffle(sample)
        for handle, event in sample:
            handle(event, deps)
            self.replays += 1
            self.records += len(event["Records"])
        return len(sample)


def access_denied(url: str) -> AWSResponse:
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": "injected: batch fails half way"})
    return AWSResponse(url, 400, {"x-amzn-RequestId": "fault-suite"}, StaticBody(body.encode()))


@dataclass
class HalfwayFailures:
    """For a seeded fraction of batches, every DynamoDB call of the handler after the first
    ``calls_before_failure`` fails with a non-retryable error, as if the function lost its
    permissions or its network half way through the batch."""

    seed: int
    fraction: float
    calls_before_failure: int = 6
    batches_failed: int = 0
    calls_failed: int = 0
    records: int = 0
    _armed_after: int | None = None
    _calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def install(self, runner: StreamRunner) -> HalfwayFailures:
        self._rng = random.Random(self.seed)
        runner.dependencies.dynamodb.meta.events.register("before-send", self._on_send, unique_id=f"halfway-{id(self)}")
        for stream in runner.streams:
            stream.handle = self._wrap(stream.handle)
        return self

    def _wrap(self, handle: BatchHandler) -> BatchHandler:
        def deliver(event: Mapping[str, Any], deps: Dependencies) -> BatchResult:
            self.records += len(event["Records"])
            fail = len(event["Records"]) > 1 and self._rng.random() < self.fraction
            with self._lock:
                self._calls = 0
                self._armed_after = self.calls_before_failure if fail else None
            try:
                result = handle(event, deps)
            finally:
                with self._lock:
                    self._armed_after = None
            if fail and result.failed_sequence_numbers:
                self.batches_failed += 1
            return result

        return deliver

    def _on_send(self, request: Any, **_: Any) -> AWSResponse | None:
        with self._lock:
            self._calls += 1
            if self._armed_after is None or self._calls <= self._armed_after:
                return None
            self.calls_failed += 1
        return access_denied(request.url)
