"""Production is a property of the stage's config, not of its name (issue 32 finding 9): a stage
requires PITR when its environment says so, and, against AWS itself, so does a stage naming a table
that such a stage names (``local`` and ``prod`` both say ``events``). Read from a real Chalice config."""

from __future__ import annotations

from pathlib import Path

from backfill.cli.pitr import why_required
from backfill.table.stage import load_stage
from backfill.table.target import Target
from chalicelib.config import Settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"


def target(stage: str, endpoint: str | None, config: Path = REPO_CONFIG) -> Target:
    return Target(settings=Settings(endpoint_url=endpoint), stage=load_stage(stage, config))


def test_prod_requires_pitr_by_its_config():
    assert "stage 'prod' requires it" in (why_required(target("prod", None), False) or "")


def test_local_naming_prods_tables_on_aws_itself_requires_it_too():
    reason = why_required(target("local", None), False)
    assert reason is not None and "stage 'prod'" in reason and "'events'" in reason


def test_local_on_a_local_endpoint_does_not():
    assert why_required(target("local", "http://localhost:8000"), False) is None


def test_a_stage_with_tables_of_its_own_does_not():
    assert why_required(target("dev", None), False) is None  # dev-events: no production stage names it
    assert why_required(target("dev", None), True) == "--require-pitr is set"
