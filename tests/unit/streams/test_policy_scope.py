"""The functions' policies name their stage's region and account, never ``*:*`` (issue 32 finding 9):
read from the project's .chalice files, and kept in step by ``stream-arns --write``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from backfill.cli.main import cli
from backfill.live.policy_scope import arns_of, policy_files, region_and_account
from backfill.table.stage import load_stages

CHALICE_DIR = Path(__file__).resolve().parents[3] / ".chalice"
CONFIG = CHALICE_DIR / "config.json"


@pytest.mark.parametrize("stage", [stage.name for stage in load_stages(CONFIG)])
def test_every_arn_of_a_stages_policies_names_its_region_and_account(stage):
    [environment] = [s.environment for s in load_stages(CONFIG) if s.name == stage]
    expected = region_and_account([v for k, v in environment.items() if k.endswith("_STREAM_ARN")])
    files = policy_files(CONFIG, stage)
    assert len(files) == 2
    for policy in files:
        text = policy.read_text()
        found = arns_of(text)
        assert found and {(region, account) for _service, region, account in found} == {expected}, policy
        resources = [r for s in json.loads(text)["Statement"] for r in
                     (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
        assert [r for r in resources if ":*:" in r] == []  # the one "*" is ListStreams' (no resource-level permissions)


def test_stream_arns_write_scopes_the_stages_policies_to_the_arns_account(dynamodb, tmp_path):
    # given a copy of the project's .chalice (stage local: account 000000000000 in its placeholders)
    chalice = tmp_path / ".chalice"
    shutil.copytree(CHALICE_DIR, chalice)
    before = {p.name: p.read_text() for p in chalice.glob("policy-*.json")}
    # when the local stage's ARNs are written from the endpoint (moto: account 123456789012)
    result = CliRunner().invoke(cli, ["stream-arns", "--stage", "local", "--chalice-config", str(chalice / "config.json"),
                                      "--write"])
    assert result.exit_code == 0, result.output
    # then the local policies name that account, and no other stage's policy changed
    for policy in chalice.glob("policy-*.json"):
        if policy.name.startswith("policy-local-"):
            assert {account for _s, _r, account in arns_of(policy.read_text())} == {"123456789012"}
            assert policy.read_text() == before[policy.name].replace("000000000000", "123456789012")
        else:
            assert policy.read_text() == before[policy.name]
