"""Credentials missing, unknown profile, rejected, or without permission: one line naming the
endpoint and the reason, exit 4, no traceback. Rejected and denied requests come from a moto
server of its own with IAM enforced (INITIAL_NO_AUTH_ACTION_COUNT), as AWS answers them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from localdev.endpoint import free_port
from tests.support.cli import cli_env, run_backfill

TARGET_ERROR = 4
NO_CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                  "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                  "AWS_WEB_IDENTITY_TOKEN_FILE"]


def no_credentials_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return cli_env({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none"),
                    "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1", **extra}, drop=NO_CREDENTIALS)


@pytest.fixture(scope="module")
def iam_endpoint() -> Iterator[tuple[str, dict[str, str]]]:
    """A moto server enforcing IAM; yields its URL and the keys of a user allowed only ListTables."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a guard against a server that never starts
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "moto server did not start"
                time.sleep(0.1)
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=url)  # the 3 unauthenticated calls
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(UserName="reader", PolicyName="list-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}],
        }))
        yield url, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("args", [["migrate", "--dry-run"], ["verify", "--no-snapshot"], ["failures"]], ids=" ".join)
def test_missing_credentials(tmp_path, args):
    result = run_backfill(*args, "--endpoint-url", "http://127.0.0.1:9", cwd=tmp_path, env=no_credentials_env(tmp_path))
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert "credentials" in error
    assert list(tmp_path.iterdir()) == []


def test_unknown_profile_is_named(tmp_path):
    result = run_backfill("verify", "--profile", "no-such-profile", cwd=tmp_path, env=no_credentials_env(tmp_path))
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert "no-such-profile" in error


def test_rejected_credentials_name_the_endpoint(tmp_path, iam_endpoint):
    url, _ = iam_endpoint
    env = cli_env({"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN0000000000", "AWS_SECRET_ACCESS_KEY": "wrong", "AWS_REGION": "us-east-1"},
                  drop=["AWS_SESSION_TOKEN"])
    result = run_backfill("migrate", "--yes", "--endpoint-url", url, cwd=tmp_path, env=env)
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert "credentials rejected" in error and url in error and "us-east-1" in error
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["backups"])
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("args", [["migrate", "--yes"], ["migrate", "--dry-run"], ["verify"], ["streams"], ["failures"],
                                  ["seed", "--events", "2"], ["init-tables"]], ids=" ".join)
def test_access_denied_names_the_endpoint_and_the_action(tmp_path, iam_endpoint, args):
    url, keys = iam_endpoint
    env = cli_env({**keys, "AWS_REGION": "us-east-1"}, drop=["AWS_SESSION_TOKEN"])
    result = run_backfill(*args, "--endpoint-url", url, cwd=tmp_path, env=env)
    [error] = result.errors()
    assert result.exit_code == TARGET_ERROR, result.output
    assert "access denied" in error and url in error and "not authorized" in error
