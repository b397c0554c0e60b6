"""Ambiguous timestamps are refused, not guessed: a number outside the plausible window (before
2000, or more than a day after now) names the unit it most likely is in."""

from dataclasses import replace
from decimal import Decimal

import pytest

from chalicelib.schema import (
    CURRENT,
    TimestampWindow,
    UpgradeRefused,
    upgrade_item,
    validate_item,
)

NOW = 1_764_000_000_000  # 2025-11-24T16:00:00Z
LEGACY = {"eventId": "e1", "name": "Quiz", "status": "active"}


def refusal(created_at, *, schema=CURRENT, **extra):
    with pytest.raises(UpgradeRefused) as refused:
        upgrade_item({**LEGACY, "createdAt": Decimal(created_at), **extra}, aggregates={"participantCount": 0},
                      now_ms=NOW, schema=schema)
    return refused.value.reasons


def test_seconds_are_refused_naming_seconds():
    [reason] = refusal(1_700_000_000)
    assert reason.startswith("createdAt 1700000000 is before 2000-01-01T00:00:00Z as milliseconds")
    assert "it looks like seconds (2023-11-14T22:13:20Z)" in reason


def test_microseconds_are_refused_naming_microseconds():
    [reason] = refusal(1_700_000_000_000_000)
    assert "more than a day in the future as milliseconds" in reason
    assert "it looks like microseconds (2023-11-14T22:13:20Z)" in reason


def test_a_number_that_is_no_plausible_time_in_any_unit_is_refused_without_a_guess():
    [reason] = refusal(5)
    assert reason == "createdAt 5 is before 2000-01-01T00:00:00Z as milliseconds"


def test_every_timestamp_is_checked_not_only_created_at():
    reasons = refusal(1_700_000_000_000, startedAt=Decimal(1_700_000_000))
    assert any(r.startswith("startedAt 1700000000 is before") and "seconds" in r for r in reasons)


def test_up_to_a_day_ahead_is_accepted_and_more_is_refused():
    day = 86_400_000
    assert upgrade_item({**LEGACY, "createdAt": Decimal(NOW + day)}, aggregates={"participantCount": 0}, now_ms=NOW)
    assert "more than a day in the future" in refusal(NOW + day + 1)[0]


def test_the_window_is_a_setting_of_the_schema():
    # given a schema whose window starts in 1990
    older = replace(CURRENT, window=TimestampWindow(earliest_ms=631_152_000_000))
    created = 700_000_000_000  # 1992
    # then 1992 is refused by the default window and accepted by the wider one
    assert "before 2000" in refusal(created)[0]
    assert upgrade_item({**LEGACY, "createdAt": Decimal(created)}, aggregates={"participantCount": 0}, now_ms=NOW, schema=older)


def test_validation_applies_the_same_window():
    current = upgrade_item({**LEGACY, "createdAt": Decimal(NOW)}, aggregates={"participantCount": 0}, now_ms=NOW)
    assert validate_item(current, now_ms=NOW) == []
    assert any("looks like seconds" in p for p in validate_item({**current, "lastModified": Decimal(1_764_000_000)}, now_ms=NOW))
