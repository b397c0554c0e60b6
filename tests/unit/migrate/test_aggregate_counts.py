"""Participant counts: one parallel scan or one COUNT query per event gives exact per-event counts,
kept in a count store whose in-memory and on-disk forms agree; and the choice between the two."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backfill.table.aggregate_counts import (
    QUERY,
    SCAN,
    CountStore,
    DiskCounts,
    MemoryCounts,
    SpillingCounts,
    choose_count_method,
    count_by_query,
    count_groups,
)
from backfill.table.request_counter import RequestCounter
from localdev import legacy_data


def test_counts_equal_the_rows_per_event(dynamodb, settings):
    # given participants spread unevenly over events
    data = legacy_data.generate(events=30, participants=200, seed=3)
    legacy_data.seed_tables(dynamodb, settings.table("events"), settings.table("participants"), data)
    # when they are counted with a 3-segment parallel scan
    counts = count_groups(dynamodb, settings.table("participants"), 3)
    # then every event's count equals its rows, and events without participants are absent
    assert dict(counts.items()) == data.participant_counts()
    assert counts.total() == 200 and len(counts) == len(data.participant_counts())


def test_segments_split_the_count_without_overlap(dynamodb, settings):
    # given some participants
    data = legacy_data.generate(events=10, participants=60, seed=5)
    legacy_data.seed_tables(dynamodb, settings.table("events"), settings.table("participants"), data)
    # when each of two segments is counted separately and the progress callback is used
    seen: list[int] = []
    parts = [count_groups(dynamodb, settings.table("participants"), 2, segments=[s], on_rows=seen.append) for s in (0, 1)]
    # then the rows are split between the segments and add up to the whole
    merged: Counter[str] = Counter()
    for part in parts:
        merged.update(dict(part.items()))
    assert merged == data.participant_counts() and sum(seen) == 60


def test_empty_table_counts_nothing(dynamodb, settings):
    counts = count_groups(dynamodb, settings.table("participants"), 4)
    assert list(counts.items()) == [] and counts.get("anything") == 0


def test_a_query_per_event_counts_only_the_events_asked_for(dynamodb, settings):
    # given participants of 30 events
    data = legacy_data.generate(events=30, participants=200, seed=7)
    legacy_data.seed_tables(dynamodb, settings.table("events"), settings.table("participants"), data)
    expected = data.participant_counts()
    wanted = sorted(expected)[:7]
    skipped = sorted(expected)[7:9]
    # when items of 7 events are counted by query (two more pass through without an id to count)
    store = MemoryCounts()
    items = [{"id": e} for e in wanted] + [{"id": None, "skip": e} for e in skipped]
    with RequestCounter().attach(dynamodb) as requests:
        passed = list(count_by_query(dynamodb, settings.table("participants"), items, lambda item: item["id"], store,
                                     threads=3, chunk=4))
    # then every item passes through in order, and only the 7 events were queried and counted exactly
    assert passed == items
    assert dict(store.items()) == {e: expected[e] for e in wanted}
    assert requests.calls() == {"Query": 7}


def test_auto_scans_a_whole_table_and_queries_a_segment_only_when_cheaper():
    # given a whole-table run, then auto scans whatever the table sizes
    assert choose_count_method("auto", split=None, items=10, source_rows=10**9).method == SCAN
    # given worker K of 100 over 1,000,000 events: 10,000 queries cost 3,000,000 scanned rows' CPU
    # then it queries when the participants table has more rows than that, and scans otherwise
    assert choose_count_method("auto", split=100, items=10**6, source_rows=3_000_001).method == QUERY
    assert choose_count_method("auto", split=100, items=10**6, source_rows=3_000_000).method == SCAN
    # and with the sizes unknown (an endpoint that reports no item counts) it scans, and says so
    unknown = choose_count_method("auto", split=4, items=0, source_rows=0)
    assert unknown.method == SCAN and "no item counts" in unknown.reason
    # and an explicit choice wins
    assert choose_count_method("scan", split=100, items=10**6, source_rows=10**9).method == SCAN
    assert choose_count_method("query", split=None).method == QUERY
    # and the description says which, why and the figures compared
    said = choose_count_method("auto", split=100, items=10**6, source_rows=10**8).describe()
    assert said.startswith("query:") and "10000 count queries" in said and "100000000 source rows" in said
    with pytest.raises(ValueError, match="--count-with"):
        choose_count_method("guess", split=None)


# --- the count store: its forms agree ----------------------------------------------------------

event_ids = st.text(alphabet="abcdef-0123456789é", min_size=1, max_size=12)
pages = st.lists(st.dictionaries(event_ids, st.integers(min_value=1, max_value=500), max_size=20), max_size=12)


def fill(store: CountStore, batches: list[dict[str, int]]) -> CountStore:
    for batch in batches:
        store.add(batch)
    return store


@settings(max_examples=60, deadline=None)
@given(batches=pages, probes=st.lists(event_ids, max_size=10), limit=st.integers(min_value=0, max_value=15))
def test_memory_disk_and_spilling_stores_agree(batches, probes, limit):
    # given the same pages of counts added to each store form (the spilling one with a small limit)
    expected: Counter[str] = Counter()
    for batch in batches:
        expected.update(batch)
    stores: list[Any] = [MemoryCounts(), DiskCounts(), SpillingCounts(memory_limit=limit)]
    try:
        for store in stores:
            fill(store, batches)
        # then each holds exactly the sums, in eventId order, and answers lookups alike
        for store in stores:
            assert list(store.items()) == sorted(expected.items())
            assert store.total() == sum(expected.values()) and len(store) == len(expected)
            for probe in [*probes, *expected]:
                assert store.get(probe) == expected.get(probe, 0)
                assert (probe in store) == (probe in expected)
        # and the spilling store is on disk exactly when it outgrew its limit
        assert stores[2].on_disk == any(len({k for b in batches[:i + 1] for k in b}) > limit
                                        for i in range(len(batches)))
    finally:
        for store in stores:
            store.close()


def test_a_spilled_store_keeps_every_count_and_its_file_is_removed():
    # given a store with a limit of 2 events that is given 5
    store = SpillingCounts(memory_limit=2)
    store.add({"e1": 1, "e2": 2})
    assert not store.on_disk
    store.add({"e3": 3, "e1": 1})
    store.add({"e4": 4, "e5": 5})
    # then it is on disk and lost nothing
    assert store.on_disk and dict(store.items()) == {"e1": 2, "e2": 2, "e3": 3, "e4": 4, "e5": 5}
    # when it is closed, its temporary file is gone
    [path] = [row[2] for row in store._store._db.execute("PRAGMA database_list")]  # type: ignore[union-attr]
    assert os.path.exists(path)
    store.close()
    assert not os.path.exists(path)
