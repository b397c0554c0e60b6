"""``python -m localdev seed --schema MODULE:NAME``: legacy-shaped rows for any declaration, which
the declaration's own migration then upgrades with nothing refused and verify passes; the
attributes no field names are left exactly as seeded (compared by raw scan)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.migrate_helpers import raw_items
from tests.support.cli import REPO, run_backfill

DECLARATIONS = {  # reference, table and its key, the aggregate's source table (None: no aggregate)
    "orders": ("examples.orders.schema:ORDERS", "orders", ("customerId", "orderId"), "order_items"),
    "notes": ("examples.notes.schema:NOTES", "notes", ("notebookId", "noteId"), None),
}


def run(reference: str, *args: str, env: dict[str, str]) -> Any:
    return run_backfill(f"--schema={reference}", *args, cwd=REPO, env=env)


@pytest.mark.parametrize("name", sorted(DECLARATIONS))
def test_seeded_rows_migrate_with_nothing_refused_and_unowned_attributes_kept(name, dynamodb, env, tmp_path):
    reference, table, key, source = DECLARATIONS[name]
    # given the declaration's tables and legacy rows seeded from the declaration alone
    assert run(reference, "init-tables", env=env).exit_code == 0
    seeded = run_backfill("seed", f"--schema={reference}", "--items", "40", "--source-rows", "60", cwd=REPO, env=env)
    assert seeded.exit_code == 0, seeded.output
    before = raw_items(dynamodb, table, key)
    assert len(before) == 40 and (source is None or dynamodb.scan(TableName=source, Select="COUNT")["Count"] > 0)
    # when the declaration's migration runs, then verify
    migrated = run(reference, "migrate", "--yes", "--backup-dir", str(tmp_path / "runs"), "--json", env=env)
    verified = run(reference, "verify", env=env)
    # then every row was upgraded (none refused) and verify passes
    assert migrated.exit_code == 0, migrated.output
    report = migrated.json()
    assert report["migrated"] == 40 and report["refused"] == 0, report
    assert verified.exit_code == 0, verified.output
    # and what no field names is as seeded, attribute by attribute (raw DynamoDB values)
    after = raw_items(dynamodb, table, key)
    for key, item in before.items():
        unowned = {k: v for k, v in item.items() if k.startswith("app")}
        assert unowned and {k: after[key].get(k) for k in unowned} == unowned, key
