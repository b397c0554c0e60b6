"""What a request to a table costs: item sizes, capacity units and on-demand prices.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

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


@dataclass(frozen=True)
class Pricing:
    per_million_writes: float = DEFAULT_PRICE_PER_MILLION_WRITES
    per_million_reads: float = DEFAULT_PRICE_PER_MILLION_READS
    write_latency_ms: float = DEFAULT_WRITE_LATENCY_MS
