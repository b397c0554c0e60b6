"""Numeric options outside their range, NaN and infinity, endpoints that are not URLs, region and
table names DynamoDB would refuse: refused by the option parser (exit 2),
naming the option, before anything is read or written. An unreachable endpoint proves it: a
command that got past its options would report the endpoint (exit 4) instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli.conftest import UNREACHABLE
from tests.support.cli import CliRun, cli_env, finish, start_backfill

USAGE = 2

CASES = [
    (["migrate", "--dry-run", "--rate-limit", "nan"], "--rate-limit"),
    (["migrate", "--dry-run", "--rate-limit", "inf"], "--rate-limit"),
    (["migrate", "--dry-run", "--rate-limit", "-1"], "--rate-limit"),
    (["migrate", "--dry-run", "--rate-limit", "fast"], "--rate-limit"),
    (["migrate", "--dry-run", "--writers", "0"], "--writers"),
    (["migrate", "--dry-run", "--writers", "100000"], "--writers"),
    (["migrate", "--dry-run", "--scan-threads", "0"], "--scan-threads"),
    (["migrate", "--dry-run", "--segment", "-1", "--total-segments", "2"], "--segment"),
    (["migrate", "--dry-run", "--segment", "0", "--total-segments", "0"], "--total-segments"),
    (["migrate", "--dry-run", "--segment", "2", "--total-segments", "2"], "--segment"),
    (["migrate", "--dry-run", "--segment", "1"], "--total-segments"),
    (["verify", "--scan-threads", "0"], "--scan-threads"),
    (["verify", "--sample", "0"], "--sample"),
    (["verify", "--show", "-1"], "--show"),
    (["restore", "x.jsonl.gz", "--writers", "0"], "--writers"),
    (["streams", "--interval", "nan"], "--interval"),
    (["streams", "--interval", "0"], "--interval"),
    (["streams", "--batch-size", "0"], "--batch-size"),
    (["seed", "--events", "-5"], "--events"),
    (["seed", "--participants", "-1"], "--participants"),
    (["seed", "--events", "2", "--malformed", "3"], "--malformed"),
    (["migrate", "--dry-run", "--price-per-million-writes", "nan"], "--price-per-million-writes"),
    (["failures", "--endpoint-url", "localhost:8000"], "--endpoint-url"),
    (["verify", "--endpoint-url", "http://localhost:99999"], "--endpoint-url"),
    (["migrate", "--dry-run", "--region", "eu west 1"], "--region"),
    (["streams", "--table", "events="], "--table"),
    (["seed", "--table", "participants=a/b"], "--table"),
    (["verify", "--table", "orders=x-orders"], "--table"),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[CliRun, Path]]:
    """Every case run once, all at the same time (each is a short process), in its own directory."""
    env = cli_env({"AWS_ENDPOINT_URL": UNREACHABLE})
    started = {}
    for args, _ in CASES:
        workdir = tmp_path_factory.mktemp("options")
        started[" ".join(args)] = (start_backfill(*args, cwd=workdir, env=env), workdir)
    return {name: (finish(process), workdir) for name, (process, workdir) in started.items()}


@pytest.mark.parametrize(("args", "option"), CASES, ids=[" ".join(args) for args, _ in CASES])
def test_an_out_of_range_number_is_a_usage_error_naming_the_option(runs, args, option):
    # when a command gets a value outside its option's range (and an endpoint nobody answers on)
    result, workdir = runs[" ".join(args)]
    # then it exits 2 naming the option, and writes nothing
    assert result.exit_code == USAGE, result.output
    assert option in result.stderr and "Error" in result.stderr, result.stderr
    assert list(workdir.iterdir()) == []
