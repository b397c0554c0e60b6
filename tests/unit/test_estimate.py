"""The cost estimate's arithmetic, against the worked examples of DynamoDB's documentation.

Examples from the Developer Guide ("DynamoDB read and write operations", "DynamoDB item sizes
and formats") and the on-demand pricing page's key terms; the expected figures are copied from
the documentation's text, not computed by the code under test.
"""

from __future__ import annotations

import base64

import pytest

from backfill.migrate.estimate import MigrationEstimate
from backfill.table.units import (
    Pricing,
    failed_condition_units,
    item_size,
    number_size,
    paged_read_units,
    price,
    read_units,
    scan_read_units,
    update_units,
    value_size,
    write_units,
)

KB = 1024


@pytest.mark.parametrize(
    ("size", "strong", "eventual"),
    [
        (3500, 1.0, 0.5),  # "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"
        (8 * KB, 2.0, 1.0),  # "if your item size is 8 KB, you require 2 read units ... 1 if eventually consistent"
        (10 * KB, 3.0, 1.5),  # "If you read a 10 KB item, DynamoDB rounds the item size to 12 KB"
        (int(3.5 * KB), 1.0, 0.5),  # "if you read an item that is 3.5 KB, DynamoDB rounds the item size to 4 KB"
    ],
)
def test_reads_round_up_to_4_kb_and_eventual_reads_cost_half(size, strong, eventual):
    assert read_units(size, consistent=True) == strong
    assert read_units(size, consistent=False) == eventual


def test_batch_get_rounds_each_item_but_a_query_page_rounds_the_total():
    # BatchGetItem of 1.5 KB and 6.5 KB items: "DynamoDB calculates the size as 12 KB (4 KB + 8 KB)"
    batch = read_units(int(1.5 * KB), consistent=True) + read_units(int(6.5 * KB), consistent=True)
    assert batch == 3.0
    # Query returning 10 items of 40.8 KB in all: "DynamoDB rounds the item size for the operation to 44 KB"
    assert scan_read_units([int(4.08 * KB)] * 10, consistent=True) == (1, 11.0)
    # "If a query returns 1500 items of 64 bytes each, the cumulative size is 96 KB"
    assert scan_read_units([64] * 1500, consistent=True) == (1, 24.0)


def test_a_scan_larger_than_1_mb_is_several_pages_each_rounded():
    # given 3.2 MB of 1,000-byte items
    requests, units = scan_read_units([1000] * 3200, consistent=False)
    # then it takes 4 pages: 3 that stop at the item crossing 1 MB (1,049,000 bytes = 257 units
    # of 4 KB each) and the rest (53,000 bytes = 13 units), eventually consistent: half
    assert requests == 4
    assert units == (3 * 257 + 13) / 2


@pytest.mark.parametrize(("size", "units"), [(1, 1), (KB, 1), (KB + 1, 2), (3 * KB, 3), (0, 1)])
def test_writes_round_up_to_1_kb_at_least_one(size, units):
    # "a standard write request of a 1 KB item would require one WCU, ... of a 3 KB item three WCUs"
    assert write_units(size) == units


def test_update_costs_the_larger_of_before_and_after():
    assert update_units(900, 1100) == 2
    assert update_units(2100, 500) == 3


def test_a_failed_condition_still_costs_the_existing_item_or_one():
    assert failed_condition_units(2500) == 3
    assert failed_condition_units(None) == 1


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1", 2),  # one significant digit -> 1 byte, plus 1
        ("12", 2),
        ("123", 3),
        ("1000", 2),  # trailing zeros trimmed
        ("0.0012", 2),  # leading zeros trimmed
        ("-123.4500", 4),  # 12345: 3 bytes, plus 1
        ("0", 2),
        ("12345678901234567890123456789012345678", 20),  # 38 digits
    ],
)
def test_number_size(text, size):
    assert number_size(text) == size


def test_item_size_follows_the_documented_rules_for_every_type():
    item = {
        "id": {"S": "héllo"},  # 2 + 6 (é is 2 UTF-8 bytes)
        "n": {"N": "123"},  # 1 + 3
        "b": {"B": b"\x00\x01\x02"},  # 1 + 3 raw bytes
        "t": {"BOOL": True},  # 1 + 1
        "z": {"NULL": True},  # 1 + 1
        "l": {"L": [{"S": "ab"}, {"N": "1"}]},  # 1 + 3 + (2+1) + (2+1)
        "m": {"M": {"k": {"S": "v"}}},  # 1 + 3 + (1 + 1 + 1)
        "ss": {"SS": ["a", "bc"]},  # 2 + 3
        "ns": {"NS": ["1", "22"]},  # 2 + 2 + 2
        "bs": {"BS": [b"xy"]},  # 2 + 2
    }
    expected = 8 + 4 + 4 + 2 + 2 + 10 + 7 + 5 + 6 + 4
    assert item_size(item) == expected


def test_binary_from_a_backup_file_counts_its_raw_bytes_not_its_base64():
    assert value_size({"B": base64.b64encode(b"12345").decode()}) == 5
    assert value_size({"M": {}}) == 3 and value_size({"L": []}) == 3


def test_unknown_types_are_refused():
    with pytest.raises(ValueError, match="unknown DynamoDB type"):
        value_size({"X": "1"})


def test_on_demand_price_per_million():
    assert price(2_000_000, 0.625) == pytest.approx(1.25)


def test_a_migration_estimate_adds_scans_writes_price_and_duration():
    # given 1,000 events of 500 bytes, 600 of them to upgrade to 1,100 bytes, and 4,000 participants of 100 bytes
    estimate = MigrationEstimate(Pricing(per_million_writes=1.0, per_million_reads=0.5, write_latency_ms=10))
    for n in range(1000):
        estimate.observe(500, 1100 if n < 600 else None)
    estimate.source_rows, estimate.source_bytes = 4000, 400_000
    # when it is summarised for 8 writers
    summary = estimate.summary(workers=8, rate_limit=0)
    # then each upgrade is 2 write units (1,100 bytes), the scans are eventually consistent
    assert summary["write units"] == 1200
    assert summary["requests"]["UpdateItem (conditional, one per item to upgrade)"] == 600
    assert summary["read units"] == pytest.approx(-(-400_000 // 4096) / 2 + -(-500_000 // 4096) / 2)
    assert summary["on-demand price (USD)"] == pytest.approx((1200 * 1.0 + summary["read units"] * 0.5) / 1e6, abs=1e-6)
    assert summary["write duration (s)"] == pytest.approx(600 * 0.010 / 8, abs=0.05)
    # and a conflict costs the failed write (item as it is), a consistent re-read and a new write
    assert summary["each conflict adds"] == {"requests": 1, "read units (consistent)": 0, "write units": 3}
    # and a rate limit below what the writers could do bounds the duration
    limited = estimate.summary(workers=8, rate_limit=50)
    assert limited["write duration (s)"] == 12.0 and limited["duration bound by"].startswith("--rate-limit")


def test_paged_reads_equal_the_scan_of_a_list_of_equal_rows():
    # given rows of one size, counted without building the list (a table has billions of rows)
    for rows, size in ((0, 100), (1, 100), (10_486, 100), (10_485, 100), (10_487, 100), (3, 0), (5, 400_000),
                       (1_000_000, 37)):
        # then requests and units are those of scanning the list of rows
        for consistent in (True, False):
            assert paged_read_units(rows, size, consistent=consistent) == scan_read_units([size] * rows,
                                                                                     consistent=consistent)


def test_counting_by_query_costs_one_consistent_read_per_4kb_of_each_event_rounded_up():
    # given a participants table of 10,000 rows of 100 bytes (reported), and a worker that counts
    # 50 events of 10 rows (1,000 bytes: 1 unit each), 5 of 100 rows (10,000 bytes: 3 units each)
    # and 2 without participants (a query that finds nothing still costs 1 unit)
    estimate = MigrationEstimate(Pricing(per_million_reads=1.0), count_method="query",
                                 source_rows=10_000, source_bytes=1_000_000)
    for rows, events in ((10, 50), (100, 5), (0, 2)):
        for _ in range(events):
            estimate.observe_count(rows)
    # when it is summarised
    summary = estimate.summary(workers=4, rate_limit=0)
    # then counting is one query per event, consistent: 50 x 1 + 5 x 3 + 2 x 1 units
    assert summary["requests"]["Query participants (COUNT, consistent, one per item to count)"] == 57
    # and the group check reads one page of the participants: 1,000 rows of 100 bytes, 25 x 4 KB, halved
    assert summary["requests"]["Scan participants (group check: one page, at most 1000 rows)"] == 1
    assert summary["read units"] == 67 + 12.5 + 0.5  # and the events scan (no events observed): one empty page
    # and a scan of the whole table would cost 1,000,000 bytes / 4 KB = 245 units, halved (eventually
    # consistent), in one page: dearer than the queries
    other = summary["counting with scan instead"]
    assert other["requests"] == 1 and other["read units"] == 122.5 and other["verdict"] == "not fewer read units"


def test_the_estimate_says_when_the_other_counting_method_is_cheaper():
    # given a run that scans a 1,000,000-byte participants table (10,000 rows of 100 bytes) to count
    # 1,000 events of 10 rows each
    estimate = MigrationEstimate(count_method="scan", source_rows=10_000, source_bytes=1_000_000)
    for _ in range(1000):
        estimate.observe_count(10)
    # when it is summarised
    summary = estimate.summary(workers=4, rate_limit=0)
    # then the scan costs 245 / 2 units and queries would cost 1,000 units: the scan stays
    assert summary["requests"]["Scan participants (counts: the whole table, eventually consistent)"] == 1
    assert summary["counting with query instead"]["read units"] == 1000
    assert summary["counting with query instead"]["verdict"].startswith("not fewer read units")
    # given instead a worker that counts only 20 of those events
    few = MigrationEstimate(count_method="scan", source_rows=10_000, source_bytes=1_000_000)
    for _ in range(20):
        few.observe_count(10)
    # then queries (20 units) are cheaper than the scan (122.5) and the estimate says so
    alternative = few.summary(workers=4, rate_limit=0)["counting with query instead"]
    assert alternative["requests"] == 20 and alternative["read units"] == 20
    assert alternative["verdict"].startswith("fewer read units: consider --count-with query")
    assert alternative["on-demand price (USD)"] == pytest.approx(20 * 0.125 / 1e6, abs=1e-6)
