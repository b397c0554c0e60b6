"""Two and three renames in one expand declaration (``examples.rename.several``), one with a type
change, under old and new writers on hot rows while the backfill and the live path run, on each
endpoint. The model is ``examples.rename.hot_rows``'s, not the rule.

``DYNAMO_EVOLVE_HOT_ROWS`` (default 12) and ``DYNAMO_EVOLVE_HOT_WRITES`` (writes per writer,
default 5 per row) size the workload; issue 31's measurement is 100 rows
(docs/how-to/rename.md, "Several renames").
"""

from __future__ import annotations

import os

import pytest

from chalicelib.schema import use_schema
from examples.rename.hot_rows import run_hot_rows
from examples.rename.several import THREE_RENAMES, TWO_RENAMES

ROWS = int(os.environ.get("DYNAMO_EVOLVE_HOT_ROWS", "12"))
WRITES = int(os.environ.get("DYNAMO_EVOLVE_HOT_WRITES", str(5 * ROWS)))


@pytest.mark.parametrize("schema", [TWO_RENAMES, THREE_RENAMES], ids=["two renames", "three renames"])
def test_old_and_new_writers_on_hot_rows_beside_the_backfill_and_the_live_path(dynamodb, live_settings, tmp_path, schema):
    with use_schema(schema):
        outcome = run_hot_rows(schema, live_settings, tmp_path, rows=ROWS, writes=WRITES)
    print(outcome.summary())
    assert outcome.out_of_step == [] and outcome.lost == [] and outcome.touched == [], outcome.summary()
    assert outcome.failures == [] and outcome.given_up == [] and outcome.verify_ok, outcome.summary()
