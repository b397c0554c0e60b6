"""An HTTP proxy in front of a DynamoDB endpoint, for tests and benches that must see or change
what passes between a client and the endpoint (the endpoint's own answers, not the code's view).

A subclass overrides ``answer``: given the operation and the upstream's answer, the answer the
client gets. ``refuse`` answers a request without forwarding it."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple, TypeVar

Self = TypeVar("Self", bound="ForwardingProxy")
_HOP_BY_HOP = ("content-length", "connection", "transfer-encoding")


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    payload: bytes


class ForwardingProxy:
    """Forwards every POST to ``upstream`` unchanged and sends back ``answer``'s result."""

    def __init__(self, upstream: str, *, timeout: float = 60) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.timeout = timeout
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def refuse(self, operation: str) -> Answer | None:
        """An answer to send instead of forwarding the request; None forwards it."""
        return None

    def answer(self, operation: str, upstream: Answer) -> Answer:
        """What the client gets for ``operation`` once the upstream answered it."""
        return upstream

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        host = self.upstream.hostname or "127.0.0.1"
        connection = http.client.HTTPConnection(host, self.upstream.port, timeout=self.timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            reply = connection.getresponse()
            payload = reply.read()
            kept = {k: v for k, v in reply.getheaders() if k.lower() not in _HOP_BY_HOP}
            return Answer(reply.status, kept, payload)
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                reply = proxy.refuse(operation)
                if reply is None:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    reply = proxy.answer(operation, proxy._forward(self.path, body, headers))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.payload)))
                self.end_headers()
                self.wfile.write(reply.payload)

        return Handler

    @contextmanager
    def running(self: Self) -> Iterator[Self]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
