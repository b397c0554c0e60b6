"""An HTTP proxy in front of a DynamoDB endpoint that applies a write, then answers 500.

DynamoDB documents that after a 5xx a write may or may not have happened; moto does exactly
this when a deployed function's stream hook fails inside the write. The proxy forwards every
request unchanged and replaces the answer to every ``failing`` write that *succeeded*
upstream with an HTML 500 page, the way a load balancer in trouble answers. botocore then
resends the write, which fails its own condition: the client sees a conflict with itself.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WRITES = ("UpdateItem", "PutItem", "DeleteItem")
HTML_403 = b"<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>by the proxy</p></body></html>"
HTML_500 = b"<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"


class UnclearProxy:
    def __init__(self, upstream: str, *, every: int = 1, refuse_writes: int | None = None) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.every = every  # answer 500 to every Nth successful write
        self.refuse_writes = refuse_writes  # an HTTP status: answer every write with it, unapplied
        self.applied_then_500 = 0
        self._writes = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _answer_500(self, operation: str, status: int) -> bool:
        if operation not in WRITES or status != 200:
            return False
        with self._lock:
            self._writes += 1
            if self._writes % self.every:
                return False
            self.applied_then_500 += 1
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                if proxy.refuse_writes is not None and operation in WRITES:
                    self._send(proxy.refuse_writes, {"Content-Type": "text/html"}, HTML_403)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                if proxy._answer_500(operation, answer.status):
                    self._send(500, {"Content-Type": "text/html"}, HTML_500)
                else:
                    kept = {k: v for k, v in answer.getheaders()
                            if k.lower() not in ("content-length", "connection", "transfer-encoding")}
                    self._send(answer.status, kept, payload)
                upstream.close()

            def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    @contextmanager
    def running(self) -> Iterator[UnclearProxy]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
