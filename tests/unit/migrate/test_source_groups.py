"""What the source rows read say of the aggregate's group_by (backfill.table.source_groups)."""

from __future__ import annotations

from backfill.table.source_groups import SourceRows
from tests.support.library_declaration import BOOKS

AGGREGATE = BOOKS.aggregates[0]  # activeLoans: loans grouped by (branchId, isbn)


def seen(*rows: dict[str, object]) -> SourceRows:
    out = SourceRows()
    for row in rows:
        out.see(AGGREGATE, row, AGGREGATE.group(row))
    return out


def test_rows_that_group_or_no_rows_at_all_are_no_problem():
    assert seen().problem(AGGREGATE, "loans") is None  # an empty source: 0 is the truth
    assert seen({"isbn": "1", "branchId": "b"}, {"isbn": "2"}).problem(AGGREGATE, "loans") is None


def test_an_attribute_on_no_row_is_named():
    rows = seen({"isbn": "1", "libraryId": "b"}, {"isbn": "2", "branchId": ""})
    assert rows.problem(AGGREGATE, "loans") == (
        "group_by attribute branchId of aggregate activeLoans is on none of the 2 loans rows read: every "
        "activeLoans would be 0")
    assert (rows.rows, rows.grouped, rows.ungrouped) == (2, 0, 2)


def test_rows_that_each_lack_one_attribute_group_nowhere():
    rows = seen({"isbn": "1"}, {"branchId": "b"})  # each attribute on some row, no row with both
    assert rows.missing(AGGREGATE) == []
    assert rows.problem(AGGREGATE, "loans") == (
        "none of the 2 loans rows read carries every group_by attribute of aggregate activeLoans (branchId, isbn) "
        "as a non-empty string: every activeLoans would be 0")
