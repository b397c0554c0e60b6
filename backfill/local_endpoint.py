"""An embedded DynamoDB + DynamoDB Streams HTTP endpoint: moto's server on a free loopback port.

Used by the demo, the benchmarks and the integration tests; boto3 reaches it only through its
URL, exactly as it would reach LocalStack or AWS. Needs the dev extra (moto[server]).
"""

from __future__ import annotations

import socket
import urllib.request
from contextlib import closing
from typing import Any


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoEndpoint:
    """Starts moto's threaded server in this process; ``url`` is what boto3 gets as endpoint."""

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as error:  # moto is a dev dependency, not needed against AWS
            raise RuntimeError("the embedded endpoint needs moto[server]: pip install -e '.[dev]'") from error

        self.port = free_port()
        self._server: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoEndpoint:
        self._server.start()
        return self

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
