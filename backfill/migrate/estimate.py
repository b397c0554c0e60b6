"""What a migration will cost before it runs: requests, capacity units, on-demand price, duration,
counted with DynamoDB's rules (``backfill.table.units``)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from backfill.migrate.live_pricing import compare
from backfill.table.aggregate_counts import NONE, counted_by_label, source_table
from backfill.table.source_groups import SAMPLE_ROWS
from backfill.table.units import (
    SCAN_PAGE_BYTES,
    Pricing,
    failed_condition_units,
    paged_read_units,
    price,
    scan_read_units,
    update_units,
    write_units,
)
from chalicelib.schema import active_schema


@dataclass(frozen=True)
class Step:
    """One kind of request of the run: how many, and the capacity they consume."""

    what: str
    requests: int
    read_units: float = 0.0
    write_units: int = 0


@dataclass
class MigrationEstimate:
    """Accumulates the items a dry run sees; ``steps`` is what the real run would send.

    ``observe`` gets each target-table item's size and, when the run would write it, its size
    after the write; ``observe_count`` the source rows of each item the run counts (one
    whose aggregate the live path does not maintain). Counting costs, by ``count_method``:

    - ``scan``: one scan of the whole source table, eventually consistent, whose cost
      depends on the full size of its rows (a projection does not lower it);
    - ``query``: one consistent ``Query(Select=COUNT)`` per item counted, paginated at 1 MB, each
      page one read of its rows' size rounded up to 4 KB (at least 1 unit).

    Rows are priced at the mean row size: the table's reported size (DescribeTable's
    TableSizeBytes and ItemCount) when the endpoint reports it, else a lower bound from the keys.
    The summary also prices the other method, and says when it would be cheaper.
    """

    pricing: Pricing = field(default_factory=Pricing)
    item_sizes: list[int] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)  # write units of each planned UpdateItem
    written_sizes: list[int] = field(default_factory=list)  # size before of each written item
    source_rows: int = 0  # rows of the whole source table (counted, or reported)
    source_bytes: int | None = None
    source_bytes_lower_bound: int = 0
    count_method: str = "scan"  # "scan" or "query" (backfill.table.aggregate_counts)
    count_choice: str = ""  # how the run counts and why, as the run says it
    items_to_count: Counter[int] = field(default_factory=Counter)  # source rows -> items with as many

    def observe(self, size_before: int, size_after: int | None) -> None:
        self.item_sizes.append(size_before)
        if size_after is not None:
            self.writes.append(update_units(size_before, size_after))
            self.written_sizes.append(size_before)

    def observe_count(self, rows: int) -> None:
        """One item the run counts, with ``rows`` source rows."""
        self.items_to_count[rows] += 1

    def row_bytes(self) -> int:
        """Mean size of a source row."""
        size = self.source_bytes if self.source_bytes is not None else self.source_bytes_lower_bound
        return size // self.source_rows if self.source_rows else 0

    def counting(self, method: str) -> Step:
        """What counting the source rows costs with ``method`` ("scan" or "query")."""
        row, source = self.row_bytes(), source_table()
        if method == "scan":
            requests, units = paged_read_units(self.source_rows, row, consistent=False)
            return Step(f"Scan {source} (counts: the whole table, eventually consistent)", requests, units)
        requests, units = 0, 0.0
        for rows, items in self.items_to_count.items():
            per_requests, per_units = paged_read_units(rows, row, consistent=True)
            requests, units = requests + items * per_requests, units + items * per_units
        return Step(f"Query {source} (COUNT, consistent, one per item to count)", requests, units)

    def group_check(self) -> Step:
        """Counting by query also reads one Scan page of the source: do its rows belong to items at
        all (``backfill.table.source_groups``)? A page closes at 1 MB."""
        row = self.row_bytes()
        rows = min(self.source_rows, SAMPLE_ROWS, -(-SCAN_PAGE_BYTES // row) if row else SAMPLE_ROWS)
        _, units = paged_read_units(rows, row, consistent=False)
        return Step(f"Scan {source_table()} (group check: one page, at most {SAMPLE_ROWS} rows)", 1, units)

    @property
    def counts(self) -> bool:
        """Whether the run counts an aggregate's source (not without an aggregate)."""
        return self.count_method != NONE

    def steps(self) -> list[Step]:
        e_requests, e_units = scan_read_units(self.item_sizes, consistent=False)
        return [
            *([self.counting(self.count_method)] if self.counts else []),
            *([self.group_check()] if self.count_method == "query" else []),
            Step(f"Scan {active_schema().table} (backup)", e_requests, read_units=e_units),
            Step("UpdateItem (conditional, one per item to upgrade)", len(self.writes),
                 write_units=sum(self.writes)),
        ]

    def per_conflict(self) -> Step:
        """Extra cost of one write that fails its condition: that write and a new one. No re-read:
        the failed write returns the item (ReturnValuesOnConditionCheckFailure, at no extra cost)."""
        mean = sum(self.written_sizes) // len(self.written_sizes) if self.written_sizes else 0
        mean_write = sum(self.writes) / len(self.writes) if self.writes else write_units(mean)
        return Step("each write whose condition fails", 1, read_units=0,
                    write_units=failed_condition_units(mean) + math.ceil(mean_write))

    def duration_s(self, *, workers: int, rate_limit: float) -> float:
        """Time of the writes: bounded by --rate-limit, or by N writers at the assumed latency."""
        by_workers = len(self.writes) * self.pricing.write_latency_ms / 1000 / max(1, workers)
        by_rate = len(self.writes) / rate_limit if rate_limit > 0 else 0.0
        return max(by_workers, by_rate)

    def summary(self, *, workers: int, rate_limit: float) -> dict[str, Any]:
        steps = self.steps()
        reads = sum(s.read_units for s in steps)
        writes = sum(s.write_units for s in steps)
        cost = price(reads, self.pricing.per_million_reads) + price(writes, self.pricing.per_million_writes)
        conflict = self.per_conflict()
        bound = f"--rate-limit {rate_limit:g}/s" if rate_limit > 0 and len(self.writes) / rate_limit >= (
            len(self.writes) * self.pricing.write_latency_ms / 1000 / max(1, workers)) else (
            f"{workers} writer(s) at {self.pricing.write_latency_ms:g} ms per write")
        summary: dict[str, Any] = {
            "requests": {s.what: s.requests for s in steps},
            "read units": round(reads, 1),
            "write units": writes,
        }
        if self.counts:
            summary = {counted_by_label(): self.count_choice or self.count_method, **summary,
                       **self.counting_summary()}
        return {
            **summary,
            "on-demand price (USD)": round(cost, 6),
            "prices (USD per million)": {"writes": self.pricing.per_million_writes,
                                         "reads": self.pricing.per_million_reads},
            "each conflict adds": {"requests": conflict.requests, "read units (consistent)": conflict.read_units,
                                   "write units": conflict.write_units},
            "write duration (s)": round(self.duration_s(workers=workers, rate_limit=rate_limit), 2),
            "duration bound by": bound,
            **({"live path per record": self.live_strategies()} if self.counts else {}),
        }

    def counting_summary(self) -> dict[str, Any]:
        """The source rows' size, and what the other counting method would cost."""
        other = "query" if self.count_method == "scan" else "scan"
        chosen, alternative = self.counting(self.count_method), self.counting(other)
        verdict = (f"fewer read units: consider --count-with {other}" if alternative.read_units < chosen.read_units
                   else "not fewer read units")
        if other == "query":  # an API call per item: about the client CPU of the migration's own write
            verdict += "; each count query costs about as much client CPU as a write"
        if other == "scan" and self.source_bytes is None:  # only the rows counted are known
            verdict = "unknown: the endpoint reports no table size, so this is a lower bound"
        return {
            f"{source_table()} rows' size": ("from the table's reported size" if self.source_bytes is not None
                                   else "unknown (endpoint reports none): lower bound from keys"),
            f"counting with {other} instead": {
                "requests": alternative.requests, "read units": round(alternative.read_units, 1),
                "on-demand price (USD)": round(price(alternative.read_units, self.pricing.per_million_reads), 6),
                "verdict": verdict},
        }

    def live_strategies(self) -> dict[str, Any]:
        """The live path's recount and mirror priced per record for these tables
        (``backfill.migrate.live_pricing``): the items sampled (counted), else the mean per item."""
        items = len(self.item_sizes)
        sampled = +self.items_to_count or Counter({self.source_rows // items: items} if items else {})
        aggregates = active_schema().aggregates
        row = self.row_bytes()
        return compare(sampled, row_bytes=row, key_bytes=row, pricing=self.pricing,
                       item_bytes=sum(self.item_sizes) // items if items else 0,
                       current=aggregates[0].strategy.name if aggregates else "-")
