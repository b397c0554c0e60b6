"""The wheel is the product: built from this checkout and installed alone in a fresh virtualenv
(its runtime dependencies from the package index), the CLI runs without chalice, localstack-client
or the project's local tooling, and a dry run works against a moto server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import boto3
import pytest

from chalicelib.config import Settings
from chalicelib.tables import create_tables
from localdev.endpoint import MotoEndpoint
from tests.support.cli import REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    [built] = out.glob("dynamo_evolve-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding only the wheel and what it depends on; its bin directory."""
    env_dir = tmp_path_factory.mktemp("wheel-venv")
    venv.create(env_dir, with_pip=True, clear=True)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(wheel)], check=True, capture_output=True, timeout=600)
    return bin_dir


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd outside the checkout, and no PYTHONPATH: only what the virtualenv holds can be imported
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": str(bin_dir), "HOME": str(cwd), "AWS_ACCESS_KEY_ID": "testing",
                                            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"})


def test_the_wheel_holds_the_product_and_none_of_the_tooling(wheel):
    # when the wheel's files are listed
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if "/" in name and ".dist-info/" not in name}
    # then it holds the CLI and the library, not the local tooling, demo, bench or tests
    assert packages == {"backfill", "chalicelib"}, packages
    assert "backfill/cli/main.py" in names and "chalicelib/schema/__init__.py" in names


def test_installed_alone_the_cli_answers_without_chalice_or_the_local_tooling(installed, tmp_path):
    # when the installed CLI is asked its version and its help
    version = run(installed, "backfill", "--version", cwd=tmp_path)
    usage = run(installed, "backfill", "--help", cwd=tmp_path)
    # then both answer, and the optional or checkout-only packages are not there
    assert version.returncode == 0 and version.stdout.startswith("backfill, version "), version.stderr
    assert usage.returncode == 0 and "migrate" in usage.stdout and "seed" not in usage.stdout, usage.stderr
    for module in ("chalice", "localstack_client", "localdev", "moto"):
        probe = run(installed, "python", "-c", f"import {module}", cwd=tmp_path)
        assert probe.returncode == 1 and "ModuleNotFoundError" in probe.stderr, (module, probe.stderr)
    # and --localstack names the extra it needs in one Error line, exit 2
    localstack = run(installed, "backfill", "migrate", "--dry-run", "--localstack", cwd=tmp_path)
    assert localstack.returncode == 2 and "dynamo-evolve[localstack]" in localstack.stderr, localstack.stderr


def test_installed_alone_a_dry_run_reads_a_moto_server(installed, tmp_path):
    # given a moto server with the three tables and one old-shape event, written with raw boto3;
    # the tables have names of their own, so no other test's writer can reach them (CI once saw
    # three events here: a stray writer aimed at a stopped server whose port this one reused)
    with MotoEndpoint() as server:
        settings = Settings(tables={"events": "wheel-events", "participants": "wheel-participants"},
                            failures_table="wheel-failures", endpoint_url=server.url, region="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=server.url)
        create_tables(dynamodb, settings)
        dynamodb.put_item(TableName=settings.table("events"), Item={
            "eventId": {"S": "e1"}, "name": {"S": "Town hall"}, "status": {"S": "waiting"},
            "createdAt": {"N": "1700000000000"}, "organizerId": {"S": "org-001"}})
        # when the installed CLI runs a dry run against it, as a table and as JSON
        names = ["--table", f"events={settings.table('events')}", "--table", f"participants={settings.table('participants')}",
                 "--failures-table", settings.failures_table]
        result = run(installed, "backfill", "migrate", "--dry-run", "--endpoint-url", server.url, *names, cwd=tmp_path)
        as_json = run(installed, "backfill", "migrate", "--dry-run", "--json", "--endpoint-url", server.url, *names,
                      cwd=tmp_path)
        events = dynamodb.scan(TableName=settings.table("events"))["Items"]
    # then it exits 0 having planned the one upgrade, and wrote nothing to the current directory
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output
    assert "Dry run: nothing was written" in output
    assert re.search(r"would upgrade\s+│ 1 │", output), (output, events)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["would_upgrade"] == 1, as_json.stdout
    assert list(tmp_path.iterdir()) == []
