"""Verify reads the status the run last wrote to each event from its ledger, streamed."""

from types import SimpleNamespace

import pytest

from backfill.run.ledger import Ledger
from backfill.run.store import open_store
from backfill.verify import runner
from backfill.verify.spill import SnapshotIndex


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_the_last_status_written_wins_whatever_the_batch_size(tmp_path, monkeypatch, batch):
    # GIVEN a ledger line format written by the run's Ledger: e1 set to setup, then (a retry) to
    # live; e2 set to setup; e3 only had its count written
    store = open_store(tmp_path)
    with Ledger(store, "run.ledger.jsonl") as ledger:
        ledger.record("e1", {"status": "setup"}, {"eventId": "e1", "status": "waiting"})
        ledger.record("e2", {"status": "setup"}, {"eventId": "e2", "status": "waiting"})
        ledger.record("e1", {"status": "live", "participantCount": 3}, {"eventId": "e1", "status": "active"})
        ledger.record("e3", {"participantCount": 1}, {"eventId": "e3", "status": "setup"})
    backup = SimpleNamespace(store=store, name_for=lambda suffix: f"run{suffix}")
    monkeypatch.setattr(runner, "STATUS_BATCH", batch)

    # WHEN verify loads the statuses into its on-disk index
    with SnapshotIndex() as index:
        runner._load_ledger(index, backup, show_values=False)  # type: ignore[arg-type]

        # THEN each event has the status its last write set; an event no write set a status on has none
        assert index.see("e1")[1] == "live"
        assert index.see("e2")[1] == "setup"
        assert index.see("e3") == (None, None)
