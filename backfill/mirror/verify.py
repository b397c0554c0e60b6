"""Checking a membership mirror: the counts against the mirror, the mirror against the source.

Three scans (source table, mirror, migrated table) fill one temporary SQLite file
(``backfill.run.spill``), so memory stays flat whatever the tables' sizes. Findings:

- ``count``: a marked item whose count is not its number of present mirror rows;
- ``missing member``: a source row with no present mirror row (of an item that exists);
- ``extra member``: a present mirror row with no source row;
- ``unmarked`` (a note, not a failure): an item whose count the mirror does not keep yet (the
  live path recounts it; ``backfill mirror seed`` hands it over).

Beside a live application a change whose stream record is not applied yet shows up as one of
these until it is: verify when the stream has caught up, or run it again to see it pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from backfill.mirror.seed import mirrored_aggregate
from backfill.run.spill import SpillFile
from backfill.table.scan import parallel_scan
from backfill.table.target import Target
from chalicelib.items import to_python
from chalicelib.mirror import PRESENT
from chalicelib.schema import active_schema
from chalicelib.schema.aggregate import Aggregate
from chalicelib.schema.values import as_count

COUNT, MISSING, EXTRA, UNMARKED = "count", "missing member", "extra member", "unmarked"
FAILING = (COUNT, MISSING, EXTRA)
KEPT_FINDINGS = 1000  # listed per run (all are counted)

_SCHEMA = """
CREATE TABLE members (g TEXT NOT NULL, m TEXT NOT NULL, source INTEGER NOT NULL DEFAULT 0,
                      mirror INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (g, m)) WITHOUT ROWID;
CREATE TABLE items (g TEXT PRIMARY KEY, n INTEGER, marked INTEGER NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class MirrorFinding:
    item: str
    kind: str
    detail: str


@dataclass
class MirrorVerifyResult:
    source_rows: int = 0
    mirror_rows: int = 0
    items: int = 0
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*FAILING, UNMARKED), 0))
    findings: list[MirrorFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.totals[kind] for kind in FAILING)

    def add(self, finding: MirrorFinding) -> None:
        self.totals[finding.kind] += 1
        if len(self.findings) < KEPT_FINDINGS:
            self.findings.append(finding)

    def to_json(self) -> dict[str, Any]:
        return {"source_rows": self.source_rows, "mirror_rows": self.mirror_rows, "items": self.items,
                "totals": self.totals, "ok": self.ok,
                "findings": [{"item": f.item, "kind": f.kind, "detail": f.detail} for f in self.findings]}


def verify_mirror(target: Target, *, segments: int, on_progress: Callable[[str, int], None] | None = None) -> MirrorVerifyResult:
    aggregate = mirrored_aggregate()
    result = MirrorVerifyResult()
    spill = SpillFile("mirror-verify-", _SCHEMA)
    try:
        progress = on_progress or (lambda _phase, _n: None)
        result.source_rows = _load_source(target, aggregate, spill, segments, lambda n: progress("source rows", n))
        result.mirror_rows = _load_mirror(target, aggregate, spill, segments, lambda n: progress("mirror rows", n))
        result.items = _load_items(target, aggregate, spill, segments, lambda n: progress("items", n))
        for finding in _compare(spill):
            result.add(finding)
    finally:
        spill.close()
    return result


def _scan(target: Target, table: str, attributes: tuple[str, ...], segments: int) -> Iterator[list[dict[str, Any]]]:
    names = {f"#a{i}": name for i, name in enumerate(dict.fromkeys(attributes))}
    for page in parallel_scan(target.dynamodb, table, total_segments=segments, projection=", ".join(names),
                              expression_names=names, consistent=True):
        yield [to_python(row) for row in page.items]


def _load_source(target: Target, aggregate: Aggregate, spill: SpillFile, segments: int,
                 progress: Callable[[int], None]) -> int:
    key = active_schema().key
    total = 0
    for rows in _scan(target, target.settings.table(aggregate.source.table),
                      (*aggregate.group_by, *aggregate.member_attributes), segments):
        pairs = [(key.name_of_values(g), m) for row in rows
                 if (g := aggregate.group(row)) is not None and (m := aggregate.member(row)) is not None]
        with spill.transaction() as db:
            db.executemany("INSERT INTO members (g, m, source) VALUES (?, ?, 1) "
                           "ON CONFLICT(g, m) DO UPDATE SET source = 1", pairs)
        total += len(rows)
        progress(len(rows))
    return total


def _load_mirror(target: Target, aggregate: Aggregate, spill: SpillFile, segments: int,
                 progress: Callable[[int], None]) -> int:
    mirror = aggregate.mirror
    assert mirror is not None
    partition, sort = mirror.key.partition, str(mirror.key.sort)
    total = 0
    for rows in _scan(target, target.settings.table(mirror.table), (partition, sort, PRESENT), segments):
        present = [(row[partition], row[sort]) for row in rows if row.get(PRESENT) is True]
        with spill.transaction() as db:
            db.executemany("INSERT INTO members (g, m, mirror) VALUES (?, ?, 1) "
                           "ON CONFLICT(g, m) DO UPDATE SET mirror = 1", present)
        total += len(rows)
        progress(len(rows))
    return total


def _load_items(target: Target, aggregate: Aggregate, spill: SpillFile, segments: int,
                progress: Callable[[int], None]) -> int:
    mirror = aggregate.mirror
    assert mirror is not None
    key = active_schema().key
    total = 0
    for rows in _scan(target, target.settings.target_table, (*key.names, aggregate.name, mirror.marker), segments):
        found = [(name, as_count(row.get(aggregate.name)), int(mirror.marker in row))
                 for row in rows if (name := key.name_of(row)) is not None]
        with spill.transaction() as db:
            db.executemany("INSERT INTO items (g, n, marked) VALUES (?, ?, ?)", found)
        total += len(rows)
        progress(len(rows))
    return total


def _compare(spill: SpillFile) -> Iterator[MirrorFinding]:
    db = spill.db
    counted = ("SELECT i.g, i.n, (SELECT count(*) FROM members m WHERE m.g = i.g AND m.mirror = 1) "
               "FROM items i WHERE i.marked = 1 ORDER BY i.g")
    for group, n, present in db.execute(counted):
        if n != present:
            shown = "no valid count" if n is None else f"count {n}"
            yield MirrorFinding(group, COUNT, f"{shown}, the mirror has {present} present row(s)")
    for (group,) in db.execute("SELECT g FROM items WHERE marked = 0 ORDER BY g"):
        yield MirrorFinding(group, UNMARKED, "its count is not kept by the mirror yet (recounted)")
    missing = ("SELECT m.g, m.m FROM members m JOIN items i ON i.g = m.g "
               "WHERE m.source = 1 AND m.mirror = 0 ORDER BY m.g, m.m")
    for group, member in db.execute(missing):
        yield MirrorFinding(group, MISSING, f"member {member!r} is in the source table, not present in the mirror")
    for group, member in db.execute("SELECT g, m FROM members WHERE mirror = 1 AND source = 0 ORDER BY g, m"):
        yield MirrorFinding(group, EXTRA, f"member {member!r} is present in the mirror, not in the source table")
