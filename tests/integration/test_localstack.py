"""LocalStack on the host (localdev.LocalStackEndpoint): nothing of it outlives a stop or a killed
test run. Each test starts a LocalStack of its own, so they run only when localstack is among the
chosen endpoints (`make test` chooses it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest

from localdev.endpoint import LOCALSTACK, LocalStackEndpoint, descendants
from tests.conftest import chosen_endpoints
from tests.support.cli import REPO, cli_env


@pytest.fixture(autouse=True)
def _localstack_chosen(request: pytest.FixtureRequest) -> None:
    if LOCALSTACK not in chosen_endpoints(request.config):
        pytest.skip("localstack is not among the chosen endpoints (TEST_ENDPOINTS / --endpoint)")


def running(pid: int) -> bool:
    """``pid`` exists and is not a zombie (an exited child its parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: list[int], within_s: float = 60.0) -> list[int]:
    """The pids still running after waiting up to ``within_s`` for them to end (a bound, not a measure)."""
    deadline = time.monotonic() + within_s
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [pid for pid in pids if running(pid)]


# A test run that started LocalStack, with a request in flight (an SQS long poll), as a killed run
# leaves it: LocalStack's request threads then wait on its stopped event loop, and its exit waited
# for them for ever.
KILLED_RUN = """\
import threading, time
import boto3
from localdev.endpoint import LocalStackEndpoint, descendants
endpoint = LocalStackEndpoint().start()
sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint.url, aws_access_key_id="local",
                   aws_secret_access_key="local")
queue = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
threading.Thread(target=sqs.receive_message, kwargs={"QueueUrl": queue, "WaitTimeSeconds": 20}, daemon=True).start()
time.sleep(1)
print(endpoint.pid, *descendants(endpoint.pid), flush=True)
time.sleep(600)
"""


def test_a_killed_test_run_takes_its_localstack_along() -> None:
    # given a process (a test run) that started a LocalStack, a request in flight, and then is
    # SIGKILLed: no teardown runs
    starter = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN],
        cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline()
        assert line, starter.stderr.read() if starter.stderr else ""
        pids = [int(pid) for pid in line.split()]
        assert len(pids) >= 2 and all(running(pid) for pid in pids)
    finally:
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait()
    # then LocalStack gets the parent-death signal and stops its JVM and itself, within the time a
    # stop takes (3-10 s; the long poll would keep it 20 s)
    assert wait_gone(pids, within_s=15) == []


def test_two_localstacks_at_once_keep_their_state_apart_and_a_stopped_one_leaves_nothing() -> None:
    # given a LocalStack whose CloudWatch holds a metric (CloudWatch keeps its data in a file)
    first = LocalStackEndpoint().start()
    try:
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=first.url,
                                  aws_access_key_id="local", aws_secret_access_key="local")
        cloudwatch.put_metric_data(Namespace="lanes", MetricData=[{"MetricName": "first", "Value": 1.0}])
        # when a second one starts beside it (the test lanes do: each starts its own), its DynamoDB
        # (a JVM child) started, and then is stopped
        second = LocalStackEndpoint().start()
        assert second.pid is not None
        pids = [second.pid, *descendants(second.pid)]
        assert len(pids) >= 2, "LocalStack's DynamoDB Local JVM is its child once DynamoDB answered"
        second.stop()
        # then neither the second LocalStack nor its JVM runs, and nothing listens on its port
        assert wait_gone(pids, within_s=5) == []
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", second.port)) != 0
        # and the first one's CloudWatch still works (a start cleared the shared temporary folder,
        # its database with it: "unable to open database file")
        cloudwatch.put_metric_data(Namespace="lanes", MetricData=[{"MetricName": "first", "Value": 2.0}])
        assert [m["MetricName"] for m in cloudwatch.list_metrics(Namespace="lanes")["Metrics"]] == ["first"]
    finally:
        first.stop()
