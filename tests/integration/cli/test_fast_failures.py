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


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An HTTP endpoint that accepts connections and never answers (a hung load balancer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                held.append(connection)
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


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


@pytest.mark.parametrize("args", COMMANDS[:2], ids=lambda args: " ".join(args[:2]))
def test_an_endpoint_that_never_answers_fails_within_the_budget(silent_endpoint, args, tmp_path):
    # given an endpoint that accepts connections and never answers; when a command is run
    took, result = _waited(silent_endpoint, args, tmp_path)
    # then one readable Error: line names it and says it did not answer, exit 4, within the budget
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert silent_endpoint.removeprefix("http://") in error and "did not answer" in error, error
    assert "<" not in error and "object at" not in error, error  # no Python reprs
    assert "--connect-timeout" in result.stderr
    assert took < BUDGET_SECONDS, (took, result.output)
