"""Fault injection through botocore's own event hooks, so the real retry machinery answers.

``Throttler`` answers a seeded random fraction of HTTP sends with a throttling error *instead of*
sending them (``before-send`` returning a response): botocore parses it like any service error
and its retry handler (adaptive mode, backoff) retries for real. ``Killer`` raises a
``BaseException`` after K sends of an operation: it escapes botocore's retries and every
``except Exception``, like a process dying mid-run.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

THROTTLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException")


class StaticBody:
    """The minimal raw stream AWSResponse reads its content from."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._payload


def throttling_response(url: str, code: str) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected by the fault suite"})
    headers = {"x-amzn-RequestId": "fault-suite", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(url, 400, headers, StaticBody(body.encode()))


def operation_of(event_name: str) -> str:
    """``before-send.dynamodb.UpdateItem`` -> ``UpdateItem``."""
    return event_name.rsplit(".", 1)[-1]


@dataclass
class Throttler:
    """Throttle ``fraction`` of the sends of ``operations`` (all when empty), at most ``limit``."""

    seed: int
    fraction: float
    operations: frozenset[str] = frozenset()
    limit: int | None = None
    injected: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _clients: list[Any] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def attach(self, *clients: Any) -> Throttler:
        for client in clients:
            client.meta.events.register("before-send", self._on_send, unique_id=f"throttler-{id(self)}")
            self._clients.append(client)
        return self

    def detach(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-send", unique_id=f"throttler-{id(self)}")
        self._clients.clear()

    def _on_send(self, request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        operation = operation_of(event_name)
        if self.operations and operation not in self.operations:
            return None
        with self._lock:
            if self.limit is not None and self.total >= self.limit:
                return None
            if self._rng.random() >= self.fraction:
                return None
            code = self._rng.choice(THROTTLE_CODES)
            self.injected[operation] = self.injected.get(operation, 0) + 1
        return throttling_response(request.url, code)


class Killed(BaseException):  # noqa: N818 - it is what happened, not an error to handle
    """The injected death of a run: not an Exception, so nothing in the code under test catches it."""


@dataclass
class Killer:
    """Raise ``Killed`` on the send of ``operation`` number ``after + 1`` (and every later one)."""

    operation: str
    after: int
    seen: int = 0
    fired: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, client: Any) -> Killer:
        client.meta.events.register(f"before-send.*.{self.operation}", self._on_send, unique_id=f"killer-{id(self)}")
        return self

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.seen += 1
            if self.seen > self.after:
                self.fired = True
                raise Killed(f"killed before {self.operation} #{self.seen}")
