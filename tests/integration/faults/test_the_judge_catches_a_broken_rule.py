"""A mutation check of the fault suite's judge: with the upgrade rule broken in one place (legacy
"waiting" read as "live" instead of "setup"), the scenario's independent check fails, although
the broken rule's own verify passes. The judge (tests/support/event_oracle.py) is written out by
hand, so a mistake in the rule cannot also be a mistake in the check."""

from __future__ import annotations

import pytest

from backfill.migrate import run_migration
from backfill.verify import VerifyOptions, run_verify
from chalicelib.schema import use_schema
from tests.integration.faults.figures import Figures
from tests.integration.faults.scenario import final_check, migration_options, seed
from tests.support.mutations import waiting_read_as_live

pytestmark = pytest.mark.integration


def test_a_rule_broken_in_one_place_fails_the_independent_check(target, backup_dir):
    # given legacy events, some "waiting", and the rule broken in one alias
    data = seed(target, events=30, participants=60, seed=808)
    assert any(event["status"] == "waiting" for event in data.events)
    with use_schema(waiting_read_as_live()):
        # when the backfill runs with it
        report = run_migration(target, migration_options(backup_dir))
        assert report.to_dict()["failed"] == 0
        # then the project's own verify, which reads the same broken rule, finds nothing wrong
        assert run_verify(target, VerifyOptions(backup_dir=backup_dir)).failing_names() == set()
        # but the fault suite's independent check fails, naming the wrong status
        with pytest.raises(AssertionError, match="independent check") as failure:
            final_check(target, data, Figures(), backup_dir=backup_dir)
    assert "the old row's 'waiting' is 'setup'" in str(failure.value)
