"""Which live-path strategy a count should use for the table at hand: the recount's and the
mirror's price per stream record, by DynamoDB's rules (``backfill.table.units``); the dry run's
estimate shows them (``backfill.migrate.estimate``).

- **Recount**: per batch, each touched item costs a consistent GetItem of it, a consistent
  COUNT Query over all its rows (one read per 1 MB page, 4 KB units) and one UpdateItem; shared
  by the records of that item in the batch (``records_per_item``: 10 unless told, the figure
  ``bench.strategies`` and ``bench/results.md`` measure with).
- **Mirror**: per record one TransactWriteItems of the member's row and the item's ADD, each item
  twice its write units (transactions cost double): 4 write units for rows and items under 1 KB.

Items are weighted by their rows: a stream of joins and leaves touches an item in proportion to
its members, so the price per record is the rows-weighted mean over the items sampled. The
choice is the cheaper strategy at that mean; the crossover is the item size from which the
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

RECORDS_PER_ITEM = 10
# A mirror row: the source key's attributes plus "present" (BOOL) and "sequenceNumber" (40 digits).
MIRROR_ROW_OVERHEAD_BYTES = len("present") + 1 + len("sequenceNumber") + 40


@dataclass(frozen=True)
class PerRecord:
    read_units: float
    write_units: float

    def usd_per_million(self, pricing: Pricing) -> float:
        return self.read_units * pricing.per_million_reads + self.write_units * pricing.per_million_writes


def recount(rows: int, row_bytes: int, item_bytes: int, records_per_item: int = RECORDS_PER_ITEM) -> PerRecord:
    _, query = paged_read_units(rows, row_bytes, consistent=True)
    reads = read_units(item_bytes, consistent=True) + query
    return PerRecord(reads / records_per_item, update_units(item_bytes, item_bytes) / records_per_item)


def mirror(key_bytes: int, item_bytes: int) -> PerRecord:
    row = write_units(key_bytes + MIRROR_ROW_OVERHEAD_BYTES)
    return PerRecord(0.0, float(2 * row + 2 * update_units(item_bytes, item_bytes)))


def crossover(row_bytes: int, key_bytes: int, item_bytes: int, pricing: Pricing,
              records_per_item: int = RECORDS_PER_ITEM) -> int | None:
    """The fewest rows per item from which the mirror costs less per record (None: never below 10^9)."""
    target = mirror(key_bytes, item_bytes).usd_per_million(pricing)
    low, high = 0, 10**9
    if recount(high, row_bytes, item_bytes, records_per_item).usd_per_million(pricing) <= target:
        return None
    while low < high:
        middle = (low + high) // 2
        if recount(middle, row_bytes, item_bytes, records_per_item).usd_per_million(pricing) > target:
            high = middle
        else:
            low = middle + 1
    return low


def compare(item_rows: Mapping[int, int], *, row_bytes: int, key_bytes: int, item_bytes: int, pricing: Pricing,
            current: str, records_per_item: int = RECORDS_PER_ITEM) -> dict[str, Any]:
    """Both strategies priced for items sized as ``item_rows`` (rows -> items with as many),
    the one to choose and why."""
    members = sum(rows * items for rows, items in item_rows.items())
    if members:
        weighted = sum(rows * items * recount(rows, row_bytes, item_bytes, records_per_item).usd_per_million(pricing)
                       for rows, items in item_rows.items()) / members
    else:
        weighted = recount(0, row_bytes, item_bytes, records_per_item).usd_per_million(pricing)
    kept = mirror(key_bytes, item_bytes)
    mirrored = kept.usd_per_million(pricing)
    largest = max((rows for rows, items in item_rows.items() if items), default=0)
    cross = crossover(row_bytes, key_bytes, item_bytes, pricing, records_per_item)
    choice = "mirror" if mirrored < weighted else "recount"
    where = f"from about {cross:,} rows per item" if cross is not None else "at no item size"
    why = (f"per record, weighting items by their rows: recount {weighted:.2f} USD per million records, mirror "
           f"{mirrored:.2f} ({kept.write_units:g} write units); the mirror is cheaper {where} "
           f"({records_per_item} records per item per batch, {row_bytes} bytes per row); the largest item seen has "
           f"{largest:,} rows")
    return {"declared": current, "would choose": choice, "why": why,
            "recount (USD per million records)": round(weighted, 3),
            "mirror (USD per million records)": round(mirrored, 3)}
