"""Properties of the upgrade rule over generated legacy items (hypothesis)."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.schema import (
    OWNED_FIELDS,
    UpgradeRefused,
    changed_fields,
    upgrade_event,
    validate_event,
)

scalar = st.one_of(
    st.text(max_size=8),
    st.integers(-(10**20), 10**20).map(Decimal),
    st.booleans(),
    st.none(),
    st.binary(max_size=8),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
        st.frozensets(st.text(min_size=1, max_size=5), min_size=1, max_size=3).map(set),
    ),
    max_leaves=6,
)
extra_names = st.text(min_size=1, max_size=10).filter(lambda n: n not in OWNED_FIELDS | {"eventId", "createdAt", "name", "topic", "description"})

legacy_items = st.builds(
    lambda event_id, status, created, extras: {
        "eventId": event_id, "status": status, "createdAt": Decimal(created), **extras,
    },
    st.text(min_size=1, max_size=12),
    st.sampled_from(["waiting", "active", "completed", "draft", "setup", "live"]),
    st.integers(0, 2**50),
    st.dictionaries(extra_names, value, max_size=4),
)
anything = st.dictionaries(st.text(max_size=10), value, max_size=6)
counts = st.integers(0, 10**6)
observed = st.one_of(st.none(), st.integers(0, 2**51))


@settings(max_examples=300, deadline=None)
@given(legacy_items, counts, observed)
def test_upgrade_is_idempotent_valid_and_preserves_what_it_does_not_own(item, count, at):
    upgraded = upgrade_event(item, participant_count=count, observed_at_ms=at)
    # idempotent, with or without context the second time
    assert upgrade_event(upgraded) == upgraded
    assert upgrade_event(upgraded, participant_count=count, observed_at_ms=at) == upgraded
    assert changed_fields(upgraded, upgrade_event(upgraded)) == {}
    # valid
    assert validate_event(upgraded) == []
    # preserves every attribute it does not own, value and type
    for name, original in item.items():
        if name not in OWNED_FIELDS:
            assert upgraded[name] == original and type(upgraded[name]) is type(original)
    # adds only owned fields
    assert set(upgraded) - set(item) <= OWNED_FIELDS


@settings(max_examples=300, deadline=None)
@given(anything, counts)
def test_arbitrary_items_are_either_upgraded_validly_or_refused_with_reasons(item, count):
    try:
        upgraded = upgrade_event(item, participant_count=count)
    except UpgradeRefused as refused:
        assert refused.reasons and all(isinstance(r, str) and r for r in refused.reasons)
    else:
        assert validate_event(upgraded) == []


@settings(max_examples=200, deadline=None)
@given(legacy_items, counts)
def test_deterministic(item, count):
    assert upgrade_event(dict(item), participant_count=count) == upgrade_event(dict(item), participant_count=count)
