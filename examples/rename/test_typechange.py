"""A type change on a live table, ``tags`` (comma-separated string) -> ``tagSet`` (string set),
expand then contract (``examples/rename/typechange.py``), on each endpoint: the recipe of
docs/how-to/rename.md with old and new writers, checked with plain boto3 reads."""

from __future__ import annotations

import json
from pathlib import Path

from backfill.migrate import MigrationOptions, plan_migration, run_migration
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import newest_backup
from backfill.table.target import Target
from backfill.verify import VerifyOptions, run_verify
from chalicelib.streams import process_target_batch
from chalicelib.streams.dependencies import Dependencies
from examples.rename.test_rename import S, table, v2_row, writers_wrote
from examples.rename.typechange import TAGS_CONTRACT, TAGS_EXPAND

HERE = Path(__file__).parent

BEFORE = [
    v2_row("t1", tags=S("beer, quiz")),
    v2_row("t2", tags=S("a")),
    v2_row("t3", tags=S(" , ")),  # no tag at all: no string set can hold it
    v2_row("t4"),
]


def test_tags_to_a_string_set_expand_writers_contract_and_restore(phase, dynamodb, live_settings, tmp_path):
    events = live_settings.table("events")
    for item in BEFORE:
        dynamodb.put_item(TableName=events, Item=item)
    target = Target(settings=live_settings)
    # expand: the dry run shows the conversion and the refusal; the migration writes string sets
    phase(TAGS_EXPAND)
    dry = plan_migration(target, MigrationOptions(backup_dir=tmp_path, segments=2, samples=5))
    assert (dry.plan.would_upgrade, dry.plan.refused) == (3, 1)
    assert dry.plan.tally.refused == [{"eventId": "t3", "reasons": ["tags ' , ' cannot be converted to tagSet"]}]
    run_migration(target, MigrationOptions(backup_dir=tmp_path / "expand", segments=2))
    rows = table(dynamodb, events)
    assert sorted(rows["t1"]["tagSet"]["SS"]) == ["beer", "quiz"] and rows["t1"]["tags"] == S("beer, quiz")
    assert rows["t2"]["tagSet"] == {"SS": ["a"]} and "tagSet" not in rows["t4"]
    assert rows["t3"] == BEFORE[2]  # refused: left as it was
    assert run_verify(target, VerifyOptions(backup_dir=tmp_path / "expand", total_segments=2)).failing_names() == {"t3"}
    # an old writer updates t1's tags, a new writer t2's tagSet: the live path keeps both in step
    event = json.loads((HERE / "events" / "typechange_writers.json").read_text(encoding="utf-8"))
    writers_wrote(dynamodb, events, event)
    assert process_target_batch(event, Dependencies(live_settings, dynamodb)).stats["upgraded"] == 2
    rows = table(dynamodb, events)
    assert sorted(rows["t1"]["tagSet"]["SS"]) == ["beer", "quiz", "wine"] and rows["t2"]["tags"] == S("a,b")
    expanded = rows
    # contract: tags removed where it has a string set; the refused row stays refused
    phase(TAGS_CONTRACT)
    run_migration(target, MigrationOptions(backup_dir=tmp_path / "contract", segments=2))
    rows = table(dynamodb, events)
    assert "tags" not in rows["t1"] and "tags" not in rows["t2"] and rows["t3"] == BEFORE[2]
    assert sorted(rows["t2"]["tagSet"]["SS"]) == ["a", "b"] and rows["t1"]["schemaVersion"] == {"N": "4"}
    # restore the contract: the expanded rows exactly, tags back as they were written
    backup = newest_backup(tmp_path / "contract", events)
    result = run_restore(target, RestoreOptions(backup_file=backup.data_path, backup_dir=tmp_path / "contract"))
    assert result.ok and table(dynamodb, events) == expanded
