"""Seeding a membership mirror, then handing each item's count over to it.

1. **Seed**: one parallel scan of the source table; every row becomes a join with no stream
   position (``Membership.at`` None), applied like any live change (``MirrorWriter.apply``): a
   put-if-absent of its mirror row, in one transaction with the item's update. A row the live
   path already wrote (a join, or the tombstone of a member removed while the scan ran) is left
   alone, so a seed never brings a removed member back nor counts one twice. On an item already
   marked the transaction ADDs +1; on an unmarked one it bumps the version attribute.
2. **Mark**: each item of the migrated table without the marker gets its count set to its present
   mirror rows, its version attribute bumped and the marker set, in one write conditioned on the
   version read *before* the rows were counted (and the marker still absent). Any mirror change
   of that item in between bumped the version, so the write fails and the item is counted again.
   From then on the live path ADDs +-1 to it.

Until an item is marked the live path recounts it from the source table (``Recount()``'s
exactness); once marked its count is the mirror's. Run the seed only after the mirrored live path
is deployed and has applied the records written before it took over (docs/how-to/mirror.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from backfill.errors import BadInput
from backfill.table.scan import parallel_scan
from backfill.table.target import Target
from chalicelib.item_store import ItemStore
from chalicelib.items import to_python
from chalicelib.mirror import Applied, Membership, MirrorWriter
from chalicelib.schema import Schema, active_schema
from chalicelib.schema.active import active_reference
from chalicelib.schema.aggregate import Aggregate


@dataclass
class SeedResult:
    source_rows: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # Applied value -> source rows
    marked: int = 0  # items whose count was handed over to the mirror by this run
    already_marked: int = 0
    contended: list[str] = field(default_factory=list)  # items still racing (MirrorWriter.mark)

    @property
    def ok(self) -> bool:
        return not self.contended and not self.outcomes[Applied.CONTENDED.value]

    def to_json(self) -> dict[str, Any]:
        return {"source_rows": self.source_rows, "rows": dict(sorted(self.outcomes.items())),
                "marked": self.marked, "already_marked": self.already_marked, "contended": self.contended,
                "ok": self.ok}


def mirrored_aggregate(schema: Schema | None = None) -> Aggregate:
    """The declaration's aggregate kept by a mirror; BadInput when there is none."""
    schema = schema or active_schema()
    for aggregate in schema.aggregates:
        if aggregate.mirror is not None:
            return aggregate
    raise BadInput(f"declaration {active_reference()} keeps no count with a membership mirror",
                   hint="declare strategy=Mirror(table, key, marker) on the CountOf (docs/how-to/mirror.md)")


def writer(target: Target, aggregate: Aggregate) -> MirrorWriter:
    mirror = aggregate.mirror
    assert mirror is not None
    return MirrorWriter(target.dynamodb, aggregate, mirror_table=target.settings.table(mirror.table),
                        target_table=target.settings.target_table, target_key=active_schema().key)


def seed_rows(target: Target, aggregate: Aggregate, result: SeedResult, *, segments: int, threads: int,
              on_rows: Callable[[int], None] | None = None) -> None:
    """Step 1 (module doc): every source row put into the mirror if it has no row there."""
    rows = writer(target, aggregate)
    key = active_schema().key
    attributes = tuple(dict.fromkeys((*aggregate.group_by, *aggregate.member_attributes)))
    names = {f"#a{i}": name for i, name in enumerate(attributes)}

    def seed(row: dict[str, Any]) -> str:
        plain = to_python(row)
        group, member = aggregate.group(plain), aggregate.member(plain)
        if group is None or member is None:
            return "no group"
        return rows.apply(Membership(key.name_of_values(group), member, present=True, at=None)).value

    pages = parallel_scan(target.dynamodb, target.settings.table(aggregate.source.table), total_segments=segments,
                          projection=", ".join(names), expression_names=names)
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="seed") as pool:
        for page in pages:
            result.outcomes.update(pool.map(seed, page.items))
            result.source_rows += len(page.items)
            if on_rows:
                on_rows(len(page.items))


def mark_items(target: Target, aggregate: Aggregate, result: SeedResult, *, segments: int,
               on_items: Callable[[int], None] | None = None) -> None:
    """Step 2 (module doc): each unmarked item's count set to its present rows, and marked."""
    mirror = aggregate.mirror
    assert mirror is not None
    rows = writer(target, aggregate)
    schema = active_schema()
    store = ItemStore(target.dynamodb, target.settings.target_table, schema.key)
    names = {f"#k{i}": name for i, name in enumerate(schema.key.names)} | {"#m": mirror.marker}
    pages = parallel_scan(target.dynamodb, target.settings.target_table, total_segments=segments,
                          projection=", ".join(names), expression_names=names)
    for page in pages:
        for typed in page.items:
            item = to_python(typed)
            name = schema.key.name_of(item)
            if name is None:
                continue
            if mirror.marker in item:
                result.already_marked += 1
                continue
            marked = rows.mark(store, name)
            if marked is None:
                result.contended.append(name)
            else:
                result.marked += marked
        if on_items:
            on_items(len(page.items))


def seed_mirror(target: Target, *, segments: int, threads: int,
                on_progress: Callable[[str, int], None] | None = None) -> SeedResult:
    """Seed the declaration's mirror, then mark every item (module doc)."""
    aggregate = mirrored_aggregate()
    result = SeedResult()
    seed_rows(target, aggregate, result, segments=segments, threads=threads,
              on_rows=(lambda n: on_progress("source rows seeded", n)) if on_progress else None)
    mark_items(target, aggregate, result, segments=segments,
               on_items=(lambda n: on_progress("items marked", n)) if on_progress else None)
    return result
