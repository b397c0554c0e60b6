"""Participants per event from ONE parallel scan of the participants table (not a query per event).

Shared by ``backfill migrate`` (counts to write) and ``backfill verify`` (counts to compare).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from backfill.scan import parallel_scan


def count_participants(
    dynamodb: Any,
    table: str,
    total_segments: int,
    *,
    segments: Sequence[int] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """eventId -> number of participant rows, scanning only the ``eventId`` attribute.

    ``segments`` limits the scan to some segments of a ``total_segments``-way split (default:
    all); ``on_rows(n)`` is called after each page (progress bars).
    """
    counts: Counter[str] = Counter()
    pages = parallel_scan(
        dynamodb,
        table,
        total_segments=total_segments,
        segments=segments,
        projection="#e",
        expression_names={"#e": "eventId"},
    )
    for page in pages:
        for row in page.items:
            counts[row["eventId"]["S"]] += 1
        if on_rows:
            on_rows(len(page.items))
    return dict(counts)
