"""Legacy-shaped test data for any declaration: what its old writers wrote, to rehearse on.

Read from the declaration alone, deterministic for a seed:
- every item has its key and no version attribute (written before the declaration);
- a field the migration fills in (owned, with a default or derived) or an aggregate supplies is
  left out; a required field is always there, an optional one most of the time;
- a choice takes its legacy spelling (an alias) where it has one, half of the time;
- a renamed attribute is written under its old name only, in its old representation;
- timestamps are milliseconds inside the declaration's window, each ``not_before`` respected;
- attributes no field names, of every DynamoDB type (empty map and list included), stand for
  what the application keeps and the migration must leave untouched;
- each aggregate's source gets 0-4 rows per item, carrying the item's key in its ``group_by``.

Structural steps cannot be read this way (their inputs are functions' business): a declaration
with steps is refused with a message rather than seeded with rows its steps would refuse.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

from chalicelib.schema import Field, Kind, Schema
from chalicelib.schema.aggregate import Aggregate

BASE_TIME_MS = 1_700_000_000_000  # 2023-11-14, inside every window this project declares
UNOWNED: dict[str, Callable[[random.Random, int], Any]] = {  # what the application keeps: every DynamoDB type
    "appNote": lambda rng, n: f"note {n}",
    "appScore": lambda rng, n: Decimal(rng.randrange(-10**6, 10**6)) / 100,
    "appBlob": lambda rng, n: Binary(bytes([n % 256, 0, 255])),
    "appFlag": lambda rng, n: rng.random() < 0.5,
    "appNothing": lambda rng, n: None,
    "appList": lambda rng, n: [f"x{n}", Decimal(n), {"deep": []}],
    "appMap": lambda rng, n: {"nested": {"empty": {}}, "n": Decimal(n)},
    "appEmptyMap": lambda rng, n: {},
    "appEmptyList": lambda rng, n: [],
    "appTags": lambda rng, n: {f"t{n % 5}", "all"},
    "appNumbers": lambda rng, n: {Decimal(n), Decimal("0.5")},
    "appBinaries": lambda rng, n: {Binary(b"\x00"), Binary(bytes([n % 256 or 1]))},
}


class UnseedableDeclaration(ValueError):
    """The declaration has something this generator cannot write legacy data for."""


@dataclass(frozen=True)
class DeclaredDataSet:
    items: list[dict[str, Any]]
    sources: dict[str, list[dict[str, Any]]]  # declared source table -> rows


def generate(schema: Schema, *, items: int, source_rows: int, seed: int = 7) -> DeclaredDataSet:
    """``items`` legacy items of ``schema``'s table and about ``source_rows`` rows per source."""
    if schema.steps:
        raise UnseedableDeclaration(
            f"it has structural steps (from versions {', '.join(str(s.from_version) for s in schema.steps)}): "
            "their inputs are known only to their functions, so seed the legacy shape they expect yourself")
    clash = sorted(set(UNOWNED) & ({f.name for f in schema.fields} | schema.owned))
    if clash:
        raise UnseedableDeclaration(f"it declares {', '.join(clash)}, which the generator uses for unowned attributes")
    rng = random.Random(seed)
    rows = [_legacy_item(schema, rng, n) for n in range(items)]
    sources = {aggregate.source.table: _source_rows(schema, aggregate, rows, rng, source_rows)
               for aggregate in schema.aggregates}
    return DeclaredDataSet(rows, sources)


def _legacy_item(schema: Schema, rng: random.Random, n: int) -> dict[str, Any]:
    item: dict[str, Any] = {name: f"{name}-{n:06d}" for name in schema.key.names}
    renamed_new = {rename.new: rename for rename in schema.renames}
    renamed_old = {rename.old for rename in schema.renames}
    times: dict[str, int] = {}
    for field in _in_dependency_order(schema.fields):
        if field.name in item or field.name in renamed_old:
            continue
        if not (_written_by_old_writers(field, rng) if field.name not in renamed_new else rng.random() < 0.8):
            continue
        value = _value(schema, field, rng, n, times)
        rename = renamed_new.get(field.name)
        if rename is None:
            item[field.name] = value
        else:  # an old writer knows only the old name and representation
            item[rename.old] = rename.to_old(value)
    for name, make in UNOWNED.items():
        if rng.random() < 0.8:
            item[name] = make(rng, n)
    return item


def _written_by_old_writers(field: Field, rng: random.Random) -> bool:
    if field.supplied or field.derived or (field.owned and field.default is not None):
        return False  # the migration (or an aggregate) fills it in
    if field.owned and not field.required:
        return False  # written by the migration only (e.g. an aggregate's version attribute)
    return field.required or field.required_from is not None or rng.random() < 0.7


def _in_dependency_order(fields: tuple[Field, ...]) -> list[Field]:
    """Fields with ``not_before`` after the timestamp they follow."""
    done: list[Field] = []
    pending = list(fields)
    while pending:
        ready = [f for f in pending if f.not_before is None or f.not_before in {d.name for d in done}
                 or f.not_before not in {p.name for p in pending}]
        done += ready
        pending = [f for f in pending if f not in ready]
    return done


def _value(schema: Schema, field: Field, rng: random.Random, n: int, times: dict[str, int]) -> Any:
    if field.kind is Kind.TIMESTAMP:
        earliest = max(schema.window.earliest_ms, times.get(field.not_before or "", 0))
        times[field.name] = max(earliest, BASE_TIME_MS) + rng.randrange(0, 30 * 24 * 3600 * 1000)
        return Decimal(times[field.name])
    if field.kind is Kind.CHOICE:
        legacy = sorted(field.aliases)
        return rng.choice(legacy) if legacy and rng.random() < 0.5 else rng.choice(field.allowed)
    if field.kind is Kind.BOOLEAN:
        return rng.random() < 0.5
    if field.kind is Kind.COUNT:
        return Decimal(rng.randrange(0, 100))
    if field.kind is Kind.STRING_SET:
        return {f"{field.name}-{k}" for k in range(1, rng.randrange(2, 5))}
    return f"{field.name} {n}"  # STRING, KEY


def _source_rows(schema: Schema, aggregate: Aggregate, items: list[dict[str, Any]], rng: random.Random,
                 total: int) -> list[dict[str, Any]]:
    """About ``total`` rows spread over the items (some none), each carrying its item's key."""
    rows: list[dict[str, Any]] = []
    own = [name for name in aggregate.source.key.names if name not in aggregate.group_by]
    keys: set[tuple[Any, ...]] = set()
    for n in range(total if items else 0):
        item = rng.choice(items)
        row = dict(zip(aggregate.group_by, (item[name] for name in schema.key.names), strict=True))
        row.update({name: f"{name}-{n:07d}" for name in own})
        row.update({name: Decimal(rng.randrange(1, 10_000)) / 100 for name in aggregate.reads})
        row["appNote"] = f"row {n}"  # an attribute the aggregate does not read
        key = tuple(row[name] for name in aggregate.source.key.names)
        if key not in keys:  # a source keyed by the group alone holds one row per item
            keys.add(key)
            rows.append(row)
    return rows
