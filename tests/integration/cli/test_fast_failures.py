"""An endpoint that cannot be used fails a command fast: one ``Error:`` line naming it, exit 4,
within the documented budget (10 s by default), not after botocore's ten retries of a run.

The budget is the behaviour under test (an operator waits for it), not a speed figure. What is
judged is the wait beyond the command's own start-up, measured in the same test as a baseline
(the same command's --help): on a loaded 2-core CI machine start-up alone took 8 s."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.integration.cli.conftest import UNREACHABLE
from tests.support.cli import REPO, cli_env, run_backfill

TARGET_ERROR = 4
BUDGET_SECONDS = 10  # the documented default: --connect-timeout 2 s, two attempts, and start-up
START_UP_ALLOWANCE = 3  # what start-up costs on a quiet machine: the part of the budget not waited


class SilentEndpoint:
    """An HTTP endpoint that accepts connections and never answers (a hung load balancer).

    It records, for each connection, how long the client held it before giving up: the
    server's own view of the client's attempts, independent of how long the command took."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.held_seconds: list[float] = []
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                continue
            self._open.append(connection)
            thread = threading.Thread(target=self._hold, args=(connection, time.monotonic()), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _hold(self, connection: socket.socket, accepted: float) -> None:
        connection.settimeout(0.2)
        while not self._stop.is_set():
            try:
                if not connection.recv(65536):  # the client closed it: the attempt is over
                    self.held_seconds.append(time.monotonic() - accepted)
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for connection in self._open:
            connection.close()
        self._server.close()


@pytest.fixture
def silent_endpoint() -> Iterator[SilentEndpoint]:
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


COMMANDS = [
    ["migrate", "--dry-run"],
    ["verify", "--no-snapshot"],
    ["failures"],
    ["live", "status", "--stage", "dev", "--chalice-config", str(REPO / ".chalice" / "config.json")],
    ["backups", "--backup-dir", "s3://runs/prefix"],
    ["control", "r1", "status", "--backup-dir", "s3://runs/prefix"],
]


def _run(endpoint: str, args: list[str], tmp_path) -> tuple[float, object]:
    env = cli_env({"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    started = time.monotonic()
    result = run_backfill(*args, cwd=tmp_path, env=env)
    return time.monotonic() - started, result


def _waited(endpoint: str, args: list[str], tmp_path) -> tuple[float, object]:
    """Seconds the command spent beyond its start-up (its --help, timed alongside), and its result."""
    start_up, _ = _run(endpoint, [*args, "--help"], tmp_path)
    took, result = _run(endpoint, args, tmp_path)
    return took - max(0.0, start_up - START_UP_ALLOWANCE), result


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_a_refused_endpoint_fails_within_the_budget(args, tmp_path):
    # given an endpoint where nothing listens; when a command is run against it
    took, result = _waited(UNREACHABLE, args, tmp_path)
    # then one Error: line names the endpoint and the reason, exit 4, within the budget
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert "127.0.0.1:9" in error and "Connection refused" in error, error
    assert took < BUDGET_SECONDS, (took, result.output)


SILENT_TIMEOUT = 1.0  # --connect-timeout for the silent endpoint: also each request's read timeout
ATTEMPTS = 2  # the probe's attempts; botocore's own default is 5 to 10 of 60 s each
HOLD_LIMIT = 15.0  # far above one 1 s attempt, far below botocore's 60 s read timeout


@pytest.mark.parametrize("args", COMMANDS[:2], ids=lambda args: " ".join(args[:2]))
def test_an_endpoint_that_never_answers_is_given_up_after_two_short_attempts(silent_endpoint, args, tmp_path):
    # given an endpoint that accepts connections and never answers
    # when a command is run against it with --connect-timeout 1
    _, result = _run(silent_endpoint.url, [*args, "--connect-timeout", str(SILENT_TIMEOUT)], tmp_path)
    # then one readable Error: line names it and says it did not answer, exit 4
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert silent_endpoint.url.removeprefix("http://") in error and "did not answer" in error, error
    assert "<" not in error and "object at" not in error, error  # no Python reprs
    assert "--connect-timeout" in result.stderr
    # and the endpoint saw two attempts, each given up by the client after its timeout, not 60 s:
    # judged at the server, so a loaded machine's slow start-up does not count against it
    assert len(silent_endpoint.held_seconds) == ATTEMPTS, silent_endpoint.held_seconds
    assert all(SILENT_TIMEOUT * 0.5 < held < HOLD_LIMIT for held in silent_endpoint.held_seconds), \
        silent_endpoint.held_seconds
