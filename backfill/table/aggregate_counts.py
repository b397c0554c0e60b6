"""The declaration's aggregate per item (rows of the source table per item of the target), for
``backfill migrate`` (values to write) and ``backfill verify`` (values to compare): computed by ONE
parallel scan of the source table (its group attributes only), or by one consistent Query per
item (``chalicelib.counts.AggregateCounter``), into a count store whose memory is bounded.

The count store (``CountStore``: ``add``/``get``) keeps item name -> value in a dict up to
``MEMORY_LIMIT_ITEMS`` items (about 100-155 bytes per item, ``python -m bench.count_store``)
and moves to a temporary SQLite file beyond it (upserts batched per scanned page; a lookup costs
a few microseconds, against about 2 ms of client CPU per migrated item).

Which method (``--count-with``): ``scan`` reads the whole source table once per process,
whatever part of the target table the process migrates; ``query`` reads only the source rows
of the items the process counts, but each query is one more API call per item, and the client
CPU of an API call is what bounds a process (a count query costs about as much client CPU as the
migration's own write, and about as much as scanning 300 source rows:
``python -m bench.count_store --counting-cpu``). ``auto`` scans for a run of the whole table; a
worker of an N-way split queries when its share of the items, E/N queries, costs less client
CPU than scanning all P source rows (E/N x 300 < P, from DescribeTable's ItemCounts), else
it scans. When the queries cost less CPU they also read fewer capacity units (for rows of 28
bytes or more, and items whose source rows fit in 4 KB), so the choice rarely trades one cost
for the other; the dry run's estimate prices both.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Protocol, TypeVar

from backfill.run.spill import SpillFile
from backfill.table.scan import parallel_scan
from backfill.table.source_groups import SourceRows
from chalicelib.counts import AggregateCounter
from chalicelib.items import to_python
from chalicelib.schema import active_schema

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

# Items kept in memory before a SpillingCounts moves to disk: about 100-155 MB at this size.
MEMORY_LIMIT_ITEMS = 1_000_000

SCAN, QUERY, AUTO = "scan", "query", "auto"
NONE = "none"  # the declaration keeps no aggregate: nothing to count
# Client CPU of one Query(Select=COUNT) call / client CPU of scanning one source row.
QUERY_CPU_IN_SCANNED_ROWS = 300
COUNT_METHODS = (AUTO, SCAN, QUERY)

T = TypeVar("T")


# --- which method ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CountChoice:
    method: str  # SCAN or QUERY, NONE without an aggregate
    reason: str

    def describe(self) -> str:
        if self.method == NONE:
            return f"{NONE}: {self.reason}"
        source = source_table()
        what = (f"one parallel scan of the whole {source} table" if self.method == SCAN
                else f"one consistent Query(Select=COUNT) per item of this process, reading only its {source} rows")
        return f"{self.method}: {what} ({self.reason})"


def choose_count_method(
    requested: str, *, split: int | None, items: int = 0, source_rows: int = 0
) -> CountChoice:
    """The counting method a run uses: the one asked for, or for ``auto`` (see the module doc)
    scan when one process does the whole table (``split`` None) and, for one segment of a
    ``split``-way split, query when E/split queries cost less CPU than scanning P rows (``items``
    E and ``source_rows`` P as DescribeTable reports them; 0 = not reported: scan).
    ValueError for an unknown method."""
    if requested not in COUNT_METHODS:
        raise ValueError(f"--count-with must be one of {', '.join(COUNT_METHODS)}, not {requested!r}")
    if not active_schema().aggregates:
        return CountChoice(NONE, "the declaration keeps no aggregate")
    if requested == SCAN:
        return CountChoice(SCAN, "--count-with scan")
    if requested == QUERY:
        return CountChoice(QUERY, "--count-with query")
    if split is None:
        return CountChoice(SCAN, "auto: this process does the whole table")
    if items <= 0 or source_rows <= 0:
        return CountChoice(SCAN, "auto: the tables report no item counts to compare the methods with")
    queries = -(-items // split)
    cheaper = queries * QUERY_CPU_IN_SCANNED_ROWS < source_rows
    compare = "cost less" if cheaper else "cost more"
    return CountChoice(QUERY if cheaper else SCAN,
                       f"auto: {queries} count queries (1/{split} of {items} items) {compare} client CPU than "
                       f"scanning {source_rows} source rows, by the tables' ItemCount")


def choose_for_tables(
    dynamodb: DynamoDBClient, requested: str, *, split: int | None, target_table: str, source_table: str
) -> CountChoice:
    """``choose_count_method`` with the tables' item counts from DescribeTable (asked only when
    ``auto`` has to compare: a split run). ValueError for an unknown method."""
    if requested != AUTO or split is None or not active_schema().aggregates:
        return choose_count_method(requested, split=split)
    items, rows = (int(dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0))
                   for table in (target_table, source_table))
    return choose_count_method(requested, split=split, items=items, source_rows=rows)


def source_table() -> str:
    """The declared name of the table the active declaration's aggregate counts (``order_items`` in the orders example).
    Only for a declaration with an aggregate: a run without one counts nothing (``NONE``)."""
    return active_schema().aggregates[0].source.table


def counted_by_label() -> str:
    """The key under which a run's description says how the source was counted
    (``order_items counted by``)."""
    return f"{source_table()} counted by"


# --- the count store ---------------------------------------------------------------------------

class CountStore(Protocol):
    """Item name -> its aggregate's value (source rows counted). Items never added count 0. ``get`` may be called from
    several threads at once; ``add`` from one."""

    def add(self, counts: Mapping[str, int]) -> None:
        """Add each count to the item's count (one batch: a scanned page, a chunk of queries)."""

    def get(self, item_name: str, default: int = 0) -> int: ...

    def __contains__(self, item_name: object) -> bool: ...

    def __len__(self) -> int:
        """Items with a count."""

    def total(self) -> int:
        """Sum of every count (source rows counted)."""

    def items(self) -> Iterator[tuple[str, int]]:
        """Every (item name, count), in name order."""

    def close(self) -> None: ...


class MemoryCounts:
    """A dict; see ``python -m bench.count_store`` for its bytes per item."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._total = 0

    def add(self, counts: Mapping[str, int]) -> None:
        for item_name, n in counts.items():
            self._counts[item_name] = self._counts.get(item_name, 0) + n
            self._total += n

    def get(self, item_name: str, default: int = 0) -> int:
        return self._counts.get(item_name, default)

    def __contains__(self, item_name: object) -> bool:
        return item_name in self._counts

    def __len__(self) -> int:
        return len(self._counts)

    def total(self) -> int:
        return self._total

    def items(self) -> Iterator[tuple[str, int]]:
        return iter(sorted(self._counts.items()))

    def close(self) -> None:
        self._counts.clear()


class DiskCounts:
    """A temporary SQLite file (``backfill.run.spill``, removed on close): memory stays flat whatever
    the table's size. The migration's writer threads look counts up at once: one lock."""

    def __init__(self) -> None:
        self._file = SpillFile("aggregate-counts-",
                               "CREATE TABLE counts (id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;")
        self._db = self._file.db
        self._lock = threading.Lock()
        self._total = 0

    def add(self, counts: Mapping[str, int]) -> None:
        with self._lock, self._file.transaction() as db:
            db.executemany("INSERT INTO counts (id, n) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET n = n + excluded.n",
                           counts.items())
        self._total += sum(counts.values())

    def get(self, item_name: str, default: int = 0) -> int:
        with self._lock:
            row = self._db.execute("SELECT n FROM counts WHERE id = ?", (item_name,)).fetchone()
        return int(row[0]) if row else default

    def __contains__(self, item_name: object) -> bool:
        if not isinstance(item_name, str):
            return False
        with self._lock:
            return self._db.execute("SELECT 1 FROM counts WHERE id = ?", (item_name,)).fetchone() is not None

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM counts").fetchone()[0])

    def total(self) -> int:
        return self._total

    def items(self) -> Iterator[tuple[str, int]]:
        last = ""
        while True:  # in chunks, so a reader never holds the whole table nor the lock for long
            with self._lock:
                rows = self._db.execute("SELECT id, n FROM counts WHERE id > ? ORDER BY id LIMIT 1000", (last,)).fetchall()
            if not rows:
                return
            yield from ((str(e), int(n)) for e, n in rows)
            last = rows[-1][0]

    def close(self) -> None:
        with self._lock:
            self._file.close()


class SpillingCounts:
    """In memory up to ``memory_limit`` items, then on disk (every count moved there once)."""

    def __init__(self, memory_limit: int | None = None) -> None:
        self.memory_limit = MEMORY_LIMIT_ITEMS if memory_limit is None else memory_limit
        self._store: MemoryCounts | DiskCounts = MemoryCounts()

    @property
    def on_disk(self) -> bool:
        return isinstance(self._store, DiskCounts)

    def add(self, counts: Mapping[str, int]) -> None:
        self._store.add(counts)
        if not self.on_disk and len(self._store) > self.memory_limit:
            disk = DiskCounts()
            for chunk in _chunks(self._store.items(), 10_000):
                disk.add(dict(chunk))
            self._store.close()
            self._store = disk

    def get(self, item_name: str, default: int = 0) -> int:
        return self._store.get(item_name, default)

    def __contains__(self, item_name: object) -> bool:
        return item_name in self._store

    def __len__(self) -> int:
        return len(self._store)

    def total(self) -> int:
        return self._store.total()

    def items(self) -> Iterator[tuple[str, int]]:
        return self._store.items()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> SpillingCounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- counting ----------------------------------------------------------------------------------

def count_groups(
    dynamodb: DynamoDBClient,
    table: str,
    total_segments: int,
    *,
    segments: Sequence[int] | None = None,
    on_rows: Callable[[int], None] | None = None,
    store: CountStore | None = None,
    seen: SourceRows | None = None,
) -> CountStore:
    """Item name -> its aggregate over the source rows, by one parallel scan of only the attributes
    the aggregate reads (its group key and ``reads``). ``seen`` is told every row and its group
    (``backfill.table.source_groups``: rows that belong to no item).

    ``segments`` limits the scan to some segments of a ``total_segments``-way split (default:
    all); ``on_rows(n)`` is called after each page (progress bars). Counts go to ``store``
    (default: a new SpillingCounts), one batch per page.
    """
    counts: CountStore = store if store is not None else SpillingCounts()
    schema = active_schema()
    aggregate = schema.aggregates[0]
    attributes = (*aggregate.group_by, *aggregate.reads)
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    pages = parallel_scan(
        dynamodb,
        table,
        total_segments=total_segments,
        segments=segments,
        projection=", ".join(names),
        expression_names=names,
    )
    for page in pages:
        tally: Counter[str] = Counter()
        for row in page.items:
            plain = to_python(row)
            group = aggregate.group(plain)
            if seen is not None:
                seen.see(aggregate, plain, group)
            if group is not None:
                tally[schema.key.name_of_values(group)] += aggregate.contribution(plain)
        counts.add(tally)
        if on_rows:
            on_rows(len(page.items))
    return counts


def count_by_query(
    dynamodb: DynamoDBClient,
    table: str,
    items: Iterable[T],
    name_of: Callable[[T], str | None],
    store: CountStore,
    *,
    threads: int,
    chunk: int = 256,
    on_items: Callable[[int], None] | None = None,
) -> Iterator[T]:
    """Yield ``items`` unchanged, each after its item's count is in ``store``: a consistent
    ``Query(Select=COUNT)`` (paginated) per item whose ``name_of(item)`` is not None, sent
    ``threads`` at a time, a chunk of items at a time (memory holds one chunk)."""
    counter = AggregateCounter(dynamodb, table)
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="count") as pool:
        for batch in _chunks(items, chunk):
            ids = [item_name for item_name in map(name_of, batch) if item_name is not None]
            counted = dict(zip(ids, pool.map(counter.count, ids), strict=True))
            store.add({item_name: n for item_name, n in counted.items() if n})
            if on_items:
                on_items(len(ids))
            yield from batch
