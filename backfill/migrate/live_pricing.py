"""Which live-path strategy a count should use for the table at hand: the recount's and the
mirror's price per stream record, by DynamoDB's rules (``backfill.table.units``); the dry run's
estimate shows them (``backfill.migrate.estimate``).

- **Recount**: per batch, each touched event costs a consistent GetItem of it, a consistent
  COUNT Query over all its rows (one read per 1 MB page, 4 KB units) and one UpdateItem; shared
  by the records of that event in the batch (``records_per_event``: 10 unless told, the figure
  ``bench.strategies`` and ``bench/results.md`` measure with).
- **Mirror**: per record one TransactWriteItems of the member's row and the event's ADD, each item
  twice its write units (transactions cost double): 4 write units for rows and events under 1 KB.

Events are weighted by their rows: a stream of joins and leaves touches an event in proportion to
its members, so the price per record is the rows-weighted mean over the events sampled. The
choice is the cheaper strategy at that mean; the crossover is the event size from which the
mirror is cheaper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backfill.table.units import (
    Pricing,
    paged_read_units,
    read_units,
    update_units,
    write_units,
)

RECORDS_PER_EVENT = 10
# A mirror row: the source key's attributes plus "present" (BOOL) and "sequenceNumber" (40 digits).
MIRROR_ROW_OVERHEAD_BYTES = len("present") + 1 + len("sequenceNumber") + 40


@dataclass(frozen=True)
class PerRecord:
    read_units: float
    write_units: float

    def usd_per_million(self, pricing: Pricing) -> float:
        return self.read_units * pricing.per_million_reads + self.write_units * pricing.per_million_writes


def recount(rows: int, row_bytes: int, event_bytes: int, records_per_event: int = RECORDS_PER_EVENT) -> PerRecord:
    _, query = paged_read_units(rows, row_bytes, consistent=True)
    reads = read_units(event_bytes, consistent=True) + query
    return PerRecord(reads / records_per_event, update_units(event_bytes, event_bytes) / records_per_event)


def mirror(key_bytes: int, event_bytes: int) -> PerRecord:
    row = write_units(key_bytes + MIRROR_ROW_OVERHEAD_BYTES)
    return PerRecord(0.0, float(2 * row + 2 * update_units(event_bytes, event_bytes)))


def crossover(row_bytes: int, key_bytes: int, event_bytes: int, pricing: Pricing,
              records_per_event: int = RECORDS_PER_EVENT) -> int | None:
    """The fewest rows per event from which the mirror costs less per record (None: never below 10^9)."""
    target = mirror(key_bytes, event_bytes).usd_per_million(pricing)
    low, high = 0, 10**9
    if recount(high, row_bytes, event_bytes, records_per_event).usd_per_million(pricing) <= target:
        return None
    while low < high:
        middle = (low + high) // 2
        if recount(middle, row_bytes, event_bytes, records_per_event).usd_per_million(pricing) > target:
            high = middle
        else:
            low = middle + 1
    return low


def compare(event_rows: Mapping[int, int], *, row_bytes: int, key_bytes: int, event_bytes: int, pricing: Pricing,
            current: str, records_per_event: int = RECORDS_PER_EVENT) -> dict[str, Any]:
    """Both strategies priced for events sized as ``event_rows`` (rows -> events with as many),
    the one to choose and why."""
    members = sum(rows * events for rows, events in event_rows.items())
    if members:
        weighted = sum(rows * events * recount(rows, row_bytes, event_bytes, records_per_event).usd_per_million(pricing)
                       for rows, events in event_rows.items()) / members
    else:
        weighted = recount(0, row_bytes, event_bytes, records_per_event).usd_per_million(pricing)
    kept = mirror(key_bytes, event_bytes)
    mirrored = kept.usd_per_million(pricing)
    largest = max((rows for rows, events in event_rows.items() if events), default=0)
    cross = crossover(row_bytes, key_bytes, event_bytes, pricing, records_per_event)
    choice = "mirror" if mirrored < weighted else "recount"
    where = f"from about {cross:,} rows per event" if cross is not None else "at no event size"
    why = (f"per record, weighting events by their rows: recount {weighted:.2f} USD per million records, mirror "
           f"{mirrored:.2f} ({kept.write_units:g} write units); the mirror is cheaper {where} "
           f"({records_per_event} records per event per batch, {row_bytes} bytes per row); the largest event seen has "
           f"{largest:,} rows")
    return {"declared": current, "would choose": choice, "why": why,
            "recount (USD per million records)": round(weighted, 3),
            "mirror (USD per million records)": round(mirrored, 3)}
