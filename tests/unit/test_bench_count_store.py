"""``python -m bench.count_store`` runs end to end on a small set (no timing asserted)."""

from __future__ import annotations

from bench.count_store import SHAPES, measure


def test_the_count_store_benchmark_reports_memory_and_lookup_figures():
    # given a few thousand synthetic events of each id shape
    for shape in SHAPES:
        # when the benchmark measures the store
        result = measure(2000, shape, rows_per_page=500)
        # then it reports bytes per event in memory (at least the id's characters) and lookup costs
        assert result["events"] == 2000 and result["shape"] == shape
        assert result["memory_bytes_per_event"] > len(SHAPES[shape](0))
        assert {"memory_get_us", "disk_get_us", "disk_add_us_per_event"} <= set(result)
