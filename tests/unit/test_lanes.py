"""The test runner's own preparation: the checkout's code is compiled once before the lanes start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lanes import SAMPLE, compile_own_code, lanes


def test_the_checkout_is_compiled_even_where_bytecode_writing_is_off(tmp_path: Path) -> None:
    # given a checkout with a package and app.py, on a machine that sets PYTHONDONTWRITEBYTECODE
    (tmp_path / "backfill").mkdir()
    (tmp_path / "backfill" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / "app.py").write_text("import backfill\n")
    # when the lanes prepare it (in a process that does not write bytecode itself)
    subprocess.run([sys.executable, "-c", f"from tests.lanes import compile_own_code; from pathlib import Path; "
                    f"compile_own_code(Path({str(tmp_path)!r}))"],
                   check=True, env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(Path.cwd())})
    # then both have bytecode beside them, and the directories that do not exist are skipped
    tag = sys.implementation.cache_tag
    assert (tmp_path / "backfill" / "__pycache__" / f"__init__.{tag}.pyc").is_file()
    assert (tmp_path / "__pycache__" / f"app.{tag}.pyc").is_file()


def test_a_missing_checkout_part_is_not_an_error(tmp_path: Path) -> None:
    compile_own_code(tmp_path)  # nothing there: nothing written, nothing raised
    assert list(tmp_path.iterdir()) == []


def test_a_sampled_endpoint_gets_one_lane_of_its_sample_and_the_others_their_shards() -> None:
    # given the three engines, LocalStack sampled (what `make test` says)
    all_lanes = lanes(["moto", "dynamodb-local", "localstack"], unit=False, extra=[], shards=2, sample=("localstack",))
    by_name = {lane.name: lane for lane in all_lanes}
    # then moto and DynamoDB Local have two shards each, LocalStack one lane with its sample's files only
    assert sorted(by_name) == ["dynamodb-local-1", "dynamodb-local-2", "localstack-sample", "moto-1", "moto-2",
                               "servers"]
    sampled = by_name["localstack-sample"]
    assert sampled.env == {"TEST_ENDPOINTS": "localstack"}
    assert [arg for arg in sampled.args if arg.startswith("tests/")] == SAMPLE["localstack"]
    assert all(Path(name.partition("::")[0]).is_file() for name in SAMPLE["localstack"])
    # and each engine's lanes select what it can serve: LocalStack the S3 tests too, DynamoDB Local neither
    assert "per_endpoint and not moto_only" in sampled.args
    assert "per_endpoint and not moto_only and not needs_aws" in by_name["dynamodb-local-1"].args


def test_without_a_sample_localstack_runs_every_file_in_shards() -> None:
    all_lanes = lanes(["localstack"], unit=False, extra=[], shards=2)
    files = [arg for lane in all_lanes if lane.name.startswith("localstack") for arg in lane.args if arg.endswith(".py")]
    assert [lane.name for lane in all_lanes] == ["servers", "localstack-1", "localstack-2"]
    assert {name.partition("::")[0] for name in SAMPLE["localstack"]} < set(files)
