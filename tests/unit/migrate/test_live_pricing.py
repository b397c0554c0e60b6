"""The dry run prices both live-path strategies by DynamoDB's rules and picks the cheaper one."""

from __future__ import annotations

from collections import Counter

import pytest

from backfill.migrate.estimate import MigrationEstimate
from backfill.migrate.live_pricing import compare, crossover, mirror, recount
from backfill.table.units import Pricing
from chalicelib.schema import use_schema
from chalicelib.schema.mirrored import EVENTS

PRICES = Pricing()  # 0.625 USD per million writes, 0.125 per million reads


def test_a_mirrored_record_is_a_two_item_transaction_whatever_the_event():
    # 2 x 1 write unit for the row + 2 x 1 for the event: 4, i.e. 2.50 USD per million records
    assert mirror(key_bytes=30, item_bytes=400).write_units == 4
    assert mirror(key_bytes=30, item_bytes=400).usd_per_million(PRICES) == pytest.approx(2.5)
    # an event over 1 KB costs two units per transactional half
    assert mirror(key_bytes=30, item_bytes=1500).write_units == 6


def test_a_recount_reads_every_row_of_the_event_once_per_batch():
    # 20,000 rows of 75 bytes: a page closes at the row reaching 1 MB (13,982 rows, 1,048,650
    # bytes: 257 units), the rest 6,018 rows (451,350 bytes: 111 units), plus the event's
    # consistent GetItem (1), shared by 10 records; one 1-unit UpdateItem likewise
    cost = recount(20_000, 75, 400)
    assert cost.read_units == pytest.approx(36.9) and cost.write_units == pytest.approx(0.1)


def test_the_crossover_is_where_the_recount_costs_what_a_transaction_does():
    # 2.50 USD = 0.0625 (the write) + 0.125 x reads: 19.5 read units per record, 195 per batch,
    # 194 of them the query: 194 x 4096 / 75 bytes = 10,595 rows
    at = crossover(75, 30, 400, PRICES)
    assert at is not None and 10_500 < at < 10_700
    assert recount(at, 75, 400).usd_per_million(PRICES) > 2.5 >= recount(at - 1, 75, 400).usd_per_million(PRICES)
    # batches of 100 records per event push it tenfold
    assert 105_000 < (crossover(75, 30, 400, PRICES, records_per_item=100) or 0) < 110_000


def test_the_choice_weights_events_by_their_rows():
    small = compare(Counter({10: 1000}), row_bytes=75, key_bytes=30, item_bytes=400, pricing=PRICES, current="recount")
    assert small["would choose"] == "recount" and "largest item seen has 10 rows" in small["why"]
    # one 100,000-row event among a thousand small ones gets most of the records
    large = compare(Counter({10: 1000, 100_000: 1}), row_bytes=75, key_bytes=30, item_bytes=400, pricing=PRICES,
                    current="recount")
    assert large["would choose"] == "mirror" and large["mirror (USD per million records)"] == 2.5
    assert large["recount (USD per million records)"] > 2.5


def test_the_dry_run_estimate_names_the_declared_strategy_and_the_choice():
    estimate = MigrationEstimate(item_sizes=[400] * 3, source_rows=60_000, source_bytes=60_000 * 75)
    for rows in (10, 20, 59_970):
        estimate.observe_count(rows)
    with use_schema(EVENTS):
        live = estimate.summary(workers=4, rate_limit=0)["live path per record"]
    assert live["declared"] == "mirror" and live["would choose"] == "mirror"
    # without a sample of event sizes, the mean per event stands for every event
    unsampled = MigrationEstimate(item_sizes=[400] * 1000, source_rows=5000, source_bytes=5000 * 75)
    assert unsampled.live_strategies()["would choose"] == "recount"
