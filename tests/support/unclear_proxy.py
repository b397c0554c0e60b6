"""An HTTP proxy in front of a DynamoDB endpoint that applies a write, then answers 500.

DynamoDB documents that after a 5xx a write may or may not have happened; moto does exactly
this when a deployed function's stream hook fails inside the write. The proxy forwards every
request unchanged and replaces the answer to every ``every``-th write that *succeeded*
upstream with an HTML 500 page, the way a load balancer in trouble answers. botocore then
resends the write, which fails its own condition: the client sees a conflict with itself.
"""

from __future__ import annotations

import threading

from localdev.proxy import Answer, ForwardingProxy

WRITES = ("UpdateItem", "PutItem", "DeleteItem")
HTML = {"Content-Type": "text/html"}
HTML_403 = b"<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>by the proxy</p></body></html>"
HTML_500 = b"<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"


class UnclearProxy(ForwardingProxy):
    def __init__(self, upstream: str, *, every: int = 1, refuse_writes: int | None = None) -> None:
        super().__init__(upstream, timeout=30)
        self.every = every  # answer 500 to every Nth successful write
        self.refuse_writes = refuse_writes  # an HTTP status: answer every write with it, unapplied
        self.applied_then_500 = 0
        self._writes = 0
        self._lock = threading.Lock()

    def refuse(self, operation: str) -> Answer | None:
        if self.refuse_writes is not None and operation in WRITES:
            return Answer(self.refuse_writes, HTML, HTML_403)
        return None

    def answer(self, operation: str, upstream: Answer) -> Answer:
        if operation not in WRITES or upstream.status != 200:
            return upstream
        with self._lock:
            self._writes += 1
            if self._writes % self.every:
                return upstream
            self.applied_then_500 += 1
        return Answer(500, HTML, HTML_500)
