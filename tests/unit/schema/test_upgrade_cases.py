"""Table-driven cases for the upgrade rule: what each legacy shape becomes, and what is refused."""

from decimal import Decimal

import pytest

from chalicelib.schema import (
    CURRENT,
    UpgradeRefused,
    changed_fields,
    needs_upgrade,
    upgrade_item,
    validate_item,
)

CREATED = Decimal(1_700_000_000_000)


def legacy(**overrides):
    item = {"eventId": "e1", "name": "Quiz", "status": "waiting", "createdAt": CREATED}
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("waiting", {"status": "setup"}),
        ("active", {"status": "live", "startedAt": CREATED}),
        ("completed", {"status": "completed", "startedAt": CREATED, "completedAt": CREATED}),
    ],
)
def test_backfilled_legacy_statuses_map_and_date_from_created_at(status, expected):
    # given a legacy event in each old status, when the backfill upgrades it (no observation time)
    upgraded = upgrade_item(legacy(status=status), aggregates={"participantCount": 3})
    # then the status maps, dates come from createdAt and the defaults are set
    assert {k: upgraded.get(k) for k in expected} == expected
    assert upgraded["visibility"] == "private" and upgraded["isTemplate"] is False
    assert upgraded["lastModified"] == CREATED and upgraded["participantCount"] == 3
    assert upgraded["schemaVersion"] == CURRENT.version
    assert validate_item(upgraded) == []


def test_live_upgrade_dates_transition_from_observation_time():
    # given an upgraded event an old writer set back to a legacy 'active' status
    current = upgrade_item(legacy(status="waiting"), aggregates={"participantCount": 0})
    touched = {**current, "status": "active"}
    # when the stream handler upgrades it with the record's time
    upgraded = upgrade_item(touched, observed_at_ms=int(CREATED) + 5000)
    # then it is live, started at the record time, and nothing else moved
    assert upgraded["status"] == "live" and upgraded["startedAt"] == int(CREATED) + 5000
    assert upgraded["lastModified"] == current["lastModified"]


def test_observation_before_creation_never_dates_before_created_at():
    upgraded = upgrade_item(legacy(status="completed"), aggregates={"participantCount": 0}, observed_at_ms=int(CREATED) - 5)
    assert upgraded["startedAt"] == CREATED and upgraded["completedAt"] == CREATED


def test_owned_fields_already_valid_are_kept():
    item = legacy(status="active", visibility="public", isTemplate=True, startedAt=CREATED + 10, topic="Cats")
    upgraded = upgrade_item(item, aggregates={"participantCount": 1})
    assert (upgraded["visibility"], upgraded["isTemplate"], upgraded["startedAt"]) == ("public", True, CREATED + 10)
    assert upgraded["topic"] == "Cats"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (legacy(status="archived"), "status 'archived' is not one of draft, setup, live, completed"),
        (legacy(status=None), "status is missing"),
        (legacy(status=Decimal(1)), "status 1 is not one of"),
        (legacy(createdAt=None), "createdAt is missing"),
        (legacy(createdAt="yesterday"), "createdAt is not a non-negative integer"),
        (legacy(createdAt=Decimal("1.5")), "createdAt is not a non-negative integer"),
        (legacy(createdAt=Decimal(-1)), "createdAt is not a non-negative integer"),
        (legacy(createdAt=True), "createdAt is not a non-negative integer"),
        (legacy(name=Decimal(3)), "name is not a string"),
        (legacy(visibility="secret"), "visibility 'secret' is not one of private, public"),
        (legacy(isTemplate="no"), "isTemplate is not a boolean"),
        (legacy(topic=Decimal(1)), "topic is not a string"),
        (legacy(status="active", startedAt=CREATED - 1), "startedAt"),
        (legacy(status="waiting", completedAt=CREATED), "completedAt is set but startedAt is not"),
        (legacy(schemaVersion=Decimal(3)), "newer than this code knows"),
        (legacy(schemaVersion="two"), "schemaVersion is not a positive integer"),
        (legacy(eventId=""), "eventId is not a non-empty string"),
    ],
)
def test_what_cannot_be_upgraded_is_refused_with_its_reason(item, reason):
    with pytest.raises(UpgradeRefused) as refused:
        upgrade_item(item, aggregates={"participantCount": 0})
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons
    assert str(item.get("eventId")) in str(refused.value) or item.get("eventId") == ""


def test_all_reasons_are_reported_at_once():
    with pytest.raises(UpgradeRefused) as refused:
        upgrade_item(legacy(status="bogus", createdAt="x"), aggregates={"participantCount": 0})
    assert len(refused.value.reasons) == 2


def test_missing_count_is_a_caller_error_not_a_guess():
    with pytest.raises(ValueError, match="has no participantCount: pass its aggregate value"):
        upgrade_item(legacy())


def test_changed_fields_are_only_owned_and_tell_false_from_zero():
    before = legacy(isTemplate=Decimal(0))
    with pytest.raises(UpgradeRefused):
        upgrade_item(before, aggregates={"participantCount": 0})  # 0 is not a boolean: refused, not coerced
    upgraded = upgrade_item(legacy(extra="x"), aggregates={"participantCount": 0})
    changes = changed_fields(legacy(extra="x"), upgraded)
    assert "extra" not in changes and "name" not in changes and changes["status"] == "setup"
    assert changed_fields(upgraded, upgraded) == {}


def test_needs_upgrade_is_false_only_for_valid_current_events():
    upgraded = upgrade_item(legacy(), aggregates={"participantCount": 2})
    assert needs_upgrade(legacy()) and not needs_upgrade(upgraded)
    assert needs_upgrade({**upgraded, "status": "active"})
    assert needs_upgrade({k: v for k, v in upgraded.items() if k != "visibility"})


def test_a_garbled_count_is_refused_unless_a_count_is_given():
    with pytest.raises(UpgradeRefused, match="participantCount is not a non-negative integer"):
        upgrade_item(legacy(participantCount="many"))
    assert upgrade_item(legacy(participantCount="many"), aggregates={"participantCount": 4})["participantCount"] == 4
