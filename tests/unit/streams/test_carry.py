"""carry: what a legacy write cannot express, worked out from an event's records in a batch."""

from decimal import Decimal

from chalicelib.streams.carry import ImageChange, carry_into, known_state

T = 1_700_000_000_000  # times are offsets from a plausible instant
CREATED = Decimal(T + 1_000)
CURRENT_LIVE = {
    "eventId": "e", "name": "n", "status": "live", "visibility": "public", "isTemplate": True,
    "topic": "Rust", "createdAt": CREATED, "lastModified": Decimal(T + 2_000), "startedAt": Decimal(T + 2_000),
    "participantCount": Decimal(0), "schemaVersion": Decimal(2),
}


def legacy(status, **extra):
    return {"eventId": "e", "name": "n", "status": status, "createdAt": CREATED, **extra}


def test_a_legacy_put_over_a_current_event_carries_what_it_cannot_express():
    state = known_state([ImageChange(CURRENT_LIVE, legacy("active"), T + 9_000)])
    assert state == {"visibility": "public", "isTemplate": True, "topic": "Rust", "startedAt": Decimal(T + 2_000)}


def test_a_transition_made_by_the_record_is_dated_by_it():
    current_setup = {**CURRENT_LIVE, "status": "setup"}
    del current_setup["startedAt"]
    assert known_state([ImageChange(current_setup, legacy("active"), T + 9_000)])["startedAt"] == T + 9_000
    done = known_state([ImageChange(CURRENT_LIVE, legacy("completed"), T + 9_000)])
    assert done["startedAt"] == T + 2_000 and done["completedAt"] == T + 9_000


def test_each_transition_in_a_sequence_keeps_its_own_date():
    first = ImageChange(legacy("waiting"), legacy("active"), T + 5_000)
    second = ImageChange(legacy("active"), legacy("completed"), T + 7_000)
    assert known_state([first, second]) == {"startedAt": T + 5_000, "completedAt": T + 7_000}


def test_a_transition_is_never_dated_before_what_it_follows():
    state = known_state([ImageChange(legacy("waiting"), legacy("completed"), T + 500)])
    assert state == {"startedAt": T + 1_000, "completedAt": T + 1_000}  # clamped to createdAt


def test_a_carried_field_survives_several_legacy_puts():
    first = ImageChange(CURRENT_LIVE, legacy("active"), T + 9_000)
    second = ImageChange(legacy("active"), legacy("active", name="renamed"), T + 9_500)
    assert known_state([first, second])["topic"] == "Rust"


def test_a_new_application_write_means_its_absences():
    without_topic = {k: v for k, v in CURRENT_LIVE.items() if k != "topic"}
    state = known_state([ImageChange(CURRENT_LIVE, without_topic, T + 9_000), ImageChange(without_topic, legacy("active"), T + 9_500)])
    assert "topic" not in state and state["visibility"] == "public"


def test_reopening_a_completed_event_drops_its_completion_date():
    completed = {**CURRENT_LIVE, "status": "completed", "completedAt": Decimal(T + 3_000)}
    state = known_state([ImageChange(completed, legacy("active"), T + 9_000)])
    assert "completedAt" not in state and state["startedAt"] == T + 2_000


def test_a_delete_forgets_everything():
    state = known_state([ImageChange(CURRENT_LIVE, None, T + 9_000), ImageChange(None, legacy("waiting"), T + 9_500)])
    assert state == {}


def test_carry_fills_only_absent_fields_of_an_item_that_needs_the_upgrade():
    state = {"topic": "Rust", "visibility": "public"}
    assert carry_into(legacy("active", topic="Go"), state) == {"visibility": "public"}
    assert carry_into({k: v for k, v in CURRENT_LIVE.items() if k != "topic"}, state) == {}


def test_carry_fills_a_current_item_only_the_migration_wrote_since_the_legacy_put():
    # given a legacy put's new image, and the item as an earlier record's upgrade left it (current,
    # every attribute the migration does not own as the put wrote it)
    put = legacy("active", legacyNote="n9")
    upgraded = {**put, "status": "live", "visibility": "private", "isTemplate": False,
                "lastModified": CREATED, "startedAt": CREATED, "participantCount": Decimal(0), "schemaVersion": Decimal(2)}
    state = {"topic": "Rust", "visibility": "public"}
    # then the put's record still carries what the put could not express (only what is absent)
    assert carry_into(upgraded, state, put) == {"topic": "Rust"}
    # but not into one the application wrote since (an attribute it owns changed): its absences are meant
    assert carry_into({**upgraded, "legacyNote": "n10"}, state, put) == {}
    assert carry_into(upgraded, state) == {}  # without the image nothing tells who made it current
