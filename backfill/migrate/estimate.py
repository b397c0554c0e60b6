"""What a migration will cost before it runs: requests, capacity units, on-demand price, duration.

Pure arithmetic on item sizes, following DynamoDB's documented rules (Developer Guide, "DynamoDB
item sizes and formats" and "DynamoDB read and write operations"):

- an item's size is the sum, over its attributes, of the UTF-8 bytes of the name plus the value:
  a string its UTF-8 bytes; a number 1 byte per two significant digits (leading and trailing
  zeros trimmed) plus 1; a binary its raw bytes; a boolean or null 1; a list or map 3 bytes plus
  its elements plus 1 byte per element (a map element also counts its name); a set the sum of
  its elements;
- reads are counted in 4 KB units, rounded up: a strongly consistent read costs one unit per
  4 KB, an eventually consistent one half of that. A Scan or Query page is *one* read of the
  total size of the items it read (not one per item), whatever the projection returns;
- writes are counted in 1 KB units, rounded up, at least 1 per item: an UpdateItem costs the
  larger of the item's size before and after the update; a write whose condition fails still
  costs the size of the existing item (at least 1); BatchWriteItem rounds each item separately.

On-demand prices are per million request units (one read request unit = one strongly consistent
4 KB read, or two eventually consistent ones; one write request unit = 1 KB written). The
defaults are the us-east-1 on-demand prices of the Standard table class; pass your region's.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from backfill.table.aggregate_counts import NONE, counted_by_label, source_table
from backfill.table.source_groups import SAMPLE_ROWS
from chalicelib.schema import active_schema

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
SCAN_PAGE_BYTES = 1024 * 1024  # a Scan page stops at 1 MB of items read

# us-east-1, on-demand, Standard table class (USD per million request units).
DEFAULT_PRICE_PER_MILLION_WRITES = 0.625
DEFAULT_PRICE_PER_MILLION_READS = 0.125
# Time one conditional UpdateItem keeps a writer busy when --rate-limit is not the bound:
# single-digit milliseconds of service latency in-region plus the client's own work.
DEFAULT_WRITE_LATENCY_MS = 10.0


# --- sizes -----------------------------------------------------------------------------------

def number_size(text: str) -> int:
    """Bytes of a number given as DynamoDB's string form: 1 per two significant digits, plus 1."""
    try:
        digits = Decimal(text).as_tuple().digits
    except InvalidOperation as error:
        raise ValueError(f"not a DynamoDB number: {text!r}") from error
    significant = "".join(map(str, digits)).strip("0")
    return math.ceil(max(1, len(significant)) / 2) + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, str):  # base64, as in a backup file or a Lambda stream record
        return len(base64.b64decode(value))
    return len(bytes(value))


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one typed attribute value (``{"S": ...}``, ``{"M": {...}}``, ...), name excluded."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return _binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(_binary_size(b) for b in inner)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes of a typed item: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


# --- capacity units --------------------------------------------------------------------------

def read_units(size: int, *, consistent: bool) -> float:
    """Read capacity of one read (GetItem, or one Scan/Query page) of ``size`` bytes."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    """Write capacity of writing one item of ``size`` bytes (PutItem, DeleteItem, batch item)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def update_units(size_before: int, size_after: int) -> int:
    """UpdateItem: the larger of the item's size before and after the update."""
    return write_units(max(size_before, size_after))


def failed_condition_units(existing_size: int | None) -> int:
    """A write whose condition fails: the existing item's size (1 if there is none)."""
    return write_units(existing_size or 0)


def scan_pages(sizes: Iterable[int], page_bytes: int = SCAN_PAGE_BYTES) -> list[int]:
    """Bytes read by each page of a scan over items of ``sizes`` (pages stop at 1 MB)."""
    pages: list[int] = []
    current = 0
    for size in sizes:
        current += size
        if current >= page_bytes:
            pages.append(current)
            current = 0
    if current or not pages:
        pages.append(current)  # the last page; an empty table still answers one page
    return pages


def scan_read_units(sizes: Iterable[int], *, consistent: bool) -> tuple[int, float]:
    """(requests, read units) of scanning items of ``sizes`` in one segment."""
    pages = scan_pages(sizes)
    return len(pages), sum(read_units(page, consistent=consistent) for page in pages)


def paged_read_units(rows: int, row_bytes: int, *, consistent: bool) -> tuple[int, float]:
    """(requests, read units) of reading ``rows`` rows of ``row_bytes`` each with one paginated
    Scan segment or one paginated Query: ``scan_read_units([row_bytes] * rows)`` without the list
    (a source table may have billions of rows). A query that finds no row still costs 1 request."""
    if rows <= 0 or row_bytes <= 0:
        return 1, read_units(0, consistent=consistent)
    per_page = -(-SCAN_PAGE_BYTES // row_bytes)  # a page closes at the row that reaches 1 MB
    full, rest = divmod(rows, per_page)
    requests = full + (1 if rest else 0)
    units = full * read_units(per_page * row_bytes, consistent=consistent)
    if rest:
        units += read_units(rest * row_bytes, consistent=consistent)
    return requests, units


def price(units: float, per_million: float) -> float:
    return units * per_million / 1_000_000


# --- a migration's estimate --------------------------------------------------------------------

@dataclass(frozen=True)
class Pricing:
    per_million_writes: float = DEFAULT_PRICE_PER_MILLION_WRITES
    per_million_reads: float = DEFAULT_PRICE_PER_MILLION_READS
    write_latency_ms: float = DEFAULT_WRITE_LATENCY_MS


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
    event_sizes: list[int] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)  # write units of each planned UpdateItem
    written_sizes: list[int] = field(default_factory=list)  # size before of each written item
    source_rows: int = 0  # rows of the whole source table (counted, or reported)
    source_bytes: int | None = None
    source_bytes_lower_bound: int = 0
    count_method: str = "scan"  # "scan" or "query" (backfill.table.aggregate_counts)
    count_choice: str = ""  # how the run counts and why, as the run says it
    items_to_count: Counter[int] = field(default_factory=Counter)  # source rows -> items with as many

    def observe(self, size_before: int, size_after: int | None) -> None:
        self.event_sizes.append(size_before)
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
        e_requests, e_units = scan_read_units(self.event_sizes, consistent=False)
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
        (``backfill.mirror.pricing``): the items sampled (counted), else the mean per item."""
        from backfill.mirror.pricing import compare  # it prices with this module's rules
        from chalicelib.schema import active_schema

        items = len(self.event_sizes)
        sampled = +self.items_to_count or Counter({self.source_rows // items: items} if items else {})
        aggregates = active_schema().aggregates
        row = self.row_bytes()
        return compare(sampled, row_bytes=row, key_bytes=row, pricing=self.pricing,
                       event_bytes=sum(self.event_sizes) // items if items else 0,
                       current=aggregates[0].strategy.name if aggregates else "-")
