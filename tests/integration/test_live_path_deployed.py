"""The live path as an operator runs it: `chalice deploy --stage dev` against a moto server
(AWS_ENDPOINT_URL), then `backfill live`, `backfill restore` and `backfill apply-mapping-settings`
as separate processes against the deployed functions and mappings.

One deploy for the module (its own moto server, so other tests' resets do not remove it); each
test leaves the mappings Enabled as it found them. The backfill commands run in this process
(click's runner); the server is reached over HTTP as in any other run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from backfill.cli.main import cli
from localdev.__main__ import cli as localdev_cli
from localdev.endpoint import MotoEndpoint
from tests.support.cli import LOCALDEV_COMMANDS, REPO, CliRun

pytestmark = [pytest.mark.integration,
              pytest.mark.moto_only("chalice deploy, Lambda, IAM, SQS and CloudWatch exist on the moto server only")]

STAGE = "dev"
TABLES = ("--table", "events=dev-events", "--table", "participants=dev-participants",
          "--failures-table", "dev-migration-failures")
FUNCTIONS = ("dynamo-evolve-dev-events_stream", "dynamo-evolve-dev-participants_stream")


@dataclass(frozen=True)
class Deployed:
    url: str
    project: Path
    backups: Path

    def backfill(self, *args: str) -> CliRun:
        """The CLI in this process (a subprocess per call would double the module's time)."""
        group = localdev_cli if args[0] in LOCALDEV_COMMANDS else cli
        result = CliRunner().invoke(group, [*args, "--endpoint-url", self.url, "--region", "us-east-1"])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliRun(tuple(args), result.exit_code, result.stdout, result.stderr)

    def client(self, service: str):
        return boto3.client(service, region_name="us-east-1", endpoint_url=self.url)

    def states(self) -> dict[str, str]:
        lam = self.client("lambda")
        states = {}
        for name in FUNCTIONS:
            arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
            [mapping] = lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
            states[name] = mapping["State"]
        return states


def copy_project(target: Path) -> Path:
    """What `chalice deploy` reads: the app, chalicelib, requirements and .chalice (no state)."""
    shutil.copy(REPO / "app.py", target / "app.py")
    shutil.copy(REPO / "requirements.txt", target / "requirements.txt")
    shutil.copytree(REPO / "chalicelib", target / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / ".chalice", target / ".chalice", ignore=shutil.ignore_patterns("deployed", "deployments", "venv"))
    return target


@pytest.fixture(scope="module")
def moto_without_lambda_runs() -> Iterator[None]:
    """moto invokes a mapped function synchronously inside every write to the table (enabled or
    not) and, with no Docker to run it, fails that write after applying it. AWS runs mappings
    asynchronously and never fails a write for them; so here the invocation is skipped (the
    handlers themselves are tested on Lambda events elsewhere)."""
    from moto.awslambda.models import LambdaBackend

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LambdaBackend, "send_dynamodb_items", lambda *_args, **_kw: "")
        yield


def chalice_deploy(project: Path, url: str, **environment: str) -> None:
    """`chalice deploy --stage dev` with chalice's own CLI, pointed at the moto server."""
    env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", **environment}
    deploy = subprocess.run([sys.executable, "-c", "from chalice.cli import main; main()", "deploy", "--stage", STAGE],
                            cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, moto_without_lambda_runs) -> Iterator[Deployed]:
    with MotoEndpoint() as server:
        project = copy_project(tmp_path_factory.mktemp("project"))
        app = Deployed(server.url, project, tmp_path_factory.mktemp("backups"))
        # given the stage's tables, with a few legacy events, and their stream ARNs in the config
        assert app.backfill("init-tables", *TABLES).exit_code == 0
        seeded = app.backfill("seed", *TABLES, "--events", "30", "--participants", "60")
        assert seeded.exit_code == 0, seeded.stderr
        arns = app.backfill("stream-arns", "--stage", STAGE, "--chalice-config", str(project / ".chalice" / "config.json"),
                            "--write", *TABLES)
        assert arns.exit_code == 0, arns.stderr
        # when the app is deployed with chalice's own CLI, pointed at the moto server
        chalice_deploy(project, server.url)
        yield app


def test_deploy_creates_both_functions_with_their_own_roles_and_enabled_mappings(deployed):
    # then each function runs with its own role, whose inline policy reads only its own stream
    lam, iam = deployed.client("lambda"), deployed.client("iam")
    for name, table in zip(FUNCTIONS, ("dev-events", "dev-participants"), strict=True):
        role = lam.get_function_configuration(FunctionName=name)["Role"].rsplit("/", 1)[-1]
        [policy] = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        streams = {r for s in document["Statement"] if "dynamodb:GetRecords" in s["Action"] for r in s["Resource"]}
        # in the account and region of the stage's stream ARNs (moto's), as stream-arns --write scoped it
        assert streams == {f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/*"}
    assert deployed.states() == dict.fromkeys(FUNCTIONS, "Enabled")


def test_pause_status_resume(deployed):
    # when the live path is paused
    paused = deployed.backfill("live", "pause", "--stage", STAGE, "--json")
    assert paused.exit_code == 0, paused.stderr
    # then both mappings are Disabled, and status shows it with the batch settings and failures count
    assert deployed.states() == dict.fromkeys(FUNCTIONS, "Disabled")
    status = deployed.backfill("live", "status", "--stage", STAGE, "--json")
    assert status.exit_code == 0, status.stderr
    shown = status.json()
    assert {(m["function"], m["table"], m["state"], m["batch_size"]) for m in shown["mappings"]} == {
        (FUNCTIONS[0], "dev-events", "Disabled", 100), (FUNCTIONS[1], "dev-participants", "Disabled", 100)}
    assert shown["failures"] == {"dev-migration-failures": 0}
    # and resume enables them again
    resumed = deployed.backfill("live", "resume", "--stage", STAGE)
    assert resumed.exit_code == 0, resumed.stderr
    assert deployed.states() == dict.fromkeys(FUNCTIONS, "Enabled")


def test_restore_refuses_while_the_live_path_runs_and_pauses_it_when_asked(deployed):
    # given a migration of the stage's events (backup first)
    migrated = deployed.backfill("migrate", *TABLES, "--yes", "--backup-dir", str(deployed.backups), "--json")
    assert migrated.exit_code == 0, migrated.stderr
    assert migrated.json()["migrated"] == 30, migrated.stdout
    [backup] = deployed.backups.glob("*.jsonl.gz")
    events = deployed.client("dynamodb")
    before = events.scan(TableName="dev-events")["Items"]
    # when a restore is started while both mappings are enabled
    refused = deployed.backfill("restore", str(backup), *TABLES, "--yes", "--backup-dir", str(deployed.backups))
    # then it refuses with exit code 3, names the running mappings and writes nothing
    assert refused.exit_code == 3, refused.stderr
    assert "live path is running" in refused.stderr and FUNCTIONS[0] in refused.stderr
    assert "backfill live pause --stage dev" in refused.stderr
    assert events.scan(TableName="dev-events")["Items"] == before
    # when it is run with --pause-live-path
    restored = deployed.backfill("restore", str(backup), *TABLES, "--yes", "--pause-live-path",
                                 "--backup-dir", str(deployed.backups), "--json")
    # then it restores every event, leaves the live path paused and says how to resume it
    assert restored.exit_code == 0, restored.stderr
    assert restored.json()["counts"]["restored"] == 30
    assert deployed.states() == dict.fromkeys(FUNCTIONS, "Disabled")
    assert "backfill live resume --stage dev" in restored.stderr
    # and resuming it is refused while the table stands rolled back: its handlers would upgrade
    # every restored event again
    store = ("--backup-dir", str(deployed.backups))
    held = deployed.backfill("live", "resume", "--stage", STAGE, *store)
    assert held.exit_code == 3, held.stderr
    [error] = held.errors()
    assert "rolled back" in error and backup.name.removesuffix(".jsonl.gz") in error and "'dev-events'" in error
    assert deployed.states() == dict.fromkeys(FUNCTIONS, "Disabled")
    assert events.scan(TableName="dev-events")["Items"] != before  # still the restored (legacy) events
    # when the table is migrated again, the live path may resume
    again = deployed.backfill("migrate", *TABLES, "--yes", *store, "--json")
    assert again.exit_code == 0 and again.json()["migrated"] == 30, again.stderr
    assert deployed.backfill("live", "resume", "--stage", STAGE, *store).exit_code == 0
    assert deployed.states() == dict.fromkeys(FUNCTIONS, "Enabled")


def test_alarms_are_created_once(deployed):
    # when the alarms are put twice
    first = deployed.backfill("live", "alarms", "--stage", STAGE, "--json")
    second = deployed.backfill("live", "alarms", "--stage", STAGE, "--json")
    # then the first run creates all of them, the second changes nothing
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    created = first.json()["created"]
    assert len(created) == 9 and second.json() == {"created": [], "updated": {}, "unchanged": created}
    alarms = deployed.client("cloudwatch").describe_alarms(AlarmNamePrefix="dynamo-evolve-dev-")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(created)
    refused = next(a for a in alarms if a["MetricName"] == "refused")
    # the handlers' own metric dimension, read from the deployed function's environment
    assert refused["Namespace"] == "DynamoEvolve" and refused["Dimensions"] == [{"Name": "service", "Value": "dynamo-evolve-dev"}]
    # and a changed threshold updates just the iterator-age alarms
    third = deployed.backfill("live", "alarms", "--stage", STAGE, "--iterator-age-ms", "60000", "--json")
    assert sorted(third.json()["updated"]) == [f"{name}-iterator-age" for name in FUNCTIONS]


def test_apply_mapping_settings_on_the_deployed_mappings(deployed):
    # when the settings chalice cannot set are applied with a new failure queue
    applied = deployed.backfill("apply-mapping-settings", "--stage", STAGE, "--create-queue", "--yes", "--json")
    # then both deployed mappings report batch item failures to the stage's queue
    assert applied.exit_code == 0, applied.stderr
    status = deployed.backfill("live", "status", "--stage", STAGE, "--json").json()
    for mapping in status["mappings"]:
        assert mapping["partial_batch_responses"] is True and mapping["state"] == "Enabled"
        assert mapping["on_failure"].endswith(":dynamo-evolve-dev-stream-failures")


def test_alarms_to_a_topic_that_does_not_exist_is_one_error_with_a_hint(deployed):
    # when alarms are asked to notify a topic nobody created
    missing = "arn:aws:sns:us-east-1:123456789012:nobody-made-this"
    result = deployed.backfill("live", "alarms", "--stage", STAGE, "--topic-arn", missing)
    # then one Error line names the topic, where it looked, and a hint says how to go on (exit 4)
    [error] = result.errors()
    assert result.exit_code == 4, result.output
    assert missing in error and "us-east-1" in error
    assert result.stderr.rstrip().splitlines()[-1].startswith("Hint:") and "create-topic" in result.stderr


def test_a_cli_of_another_schema_version_than_the_deployed_live_path_refuses_until_aligned(deployed):
    # (last in the module: it deploys the stage again, with the next version)
    # given the stage deployed with the events declaration (version 2): status shows the version
    status = deployed.backfill("live", "status", "--stage", STAGE, "--json")
    assert status.exit_code == 0, status.stderr
    assert {m["schema_version"] for m in status.json()["mappings"]} == {"2"}
    events = deployed.client("dynamodb")
    before = events.scan(TableName="dev-events", ConsistentRead=True)["Items"]
    expand = ("--schema", "examples.rename.schema:EXPAND")
    migrate = ("migrate", "--stage", STAGE, *TABLES, "--yes", "--backup-dir", str(deployed.backups / "v3"))
    # when a CLI with the next version's declaration (the rename's expand phase, version 3) migrates
    refused = deployed.backfill(*expand, *migrate)
    # then it refuses in one line naming both versions (exit 3) and writes nothing
    [error] = refused.errors()
    assert refused.exit_code == 3, refused.output
    assert "runs schema version 2" in error and "this declaration is version 3" in error
    assert "--allow-version-mismatch" in refused.stderr
    assert events.scan(TableName="dev-events", ConsistentRead=True)["Items"] == before
    # and so does restore
    restore = deployed.backfill(*expand, "restore", "--run", "nothing-yet", "--stage", STAGE, *TABLES, "--yes",
                                "--backup-dir", str(deployed.backups))
    assert restore.exit_code == 3 and "this declaration is version 3" in restore.errors()[0], restore.output
    # when the stage is aligned: its config names version 3 (stream-arns --write with the same
    # declaration) and the app is deployed with that declaration, bundled under chalicelib/
    config = deployed.project / ".chalice" / "config.json"
    written = deployed.backfill(*expand, "stream-arns", "--stage", STAGE, "--chalice-config", str(config), "--write")
    assert written.exit_code == 0, written.stderr
    declarations = deployed.project / "chalicelib" / "declarations"
    declarations.mkdir()
    shutil.copy(REPO / "examples" / "rename" / "schema.py", declarations / "rename.py")
    settings = json.loads(config.read_text())
    settings["stages"][STAGE]["environment_variables"]["DYNAMO_EVOLVE_SCHEMA"] = "chalicelib.declarations.rename:EXPAND"
    config.write_text(json.dumps(settings, indent=2))
    chalice_deploy(deployed.project, deployed.url, DYNAMO_EVOLVE_SCHEMA="chalicelib.declarations.rename:EXPAND")
    # then status shows version 3, and the same migration runs
    status = deployed.backfill(*expand, "live", "status", "--stage", STAGE, "--json").json()
    assert {m["schema_version"] for m in status["mappings"]} == {"3"} and status["declaration_schema_version"] == 3
    accepted = deployed.backfill(*expand, *migrate, "--json")
    assert accepted.exit_code == 0, accepted.output
    versions = {item["schemaVersion"]["N"] for item in events.scan(TableName="dev-events", ConsistentRead=True)["Items"]}
    assert versions == {"3"}
