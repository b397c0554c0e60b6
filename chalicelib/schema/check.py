"""Is a declaration usable? Checked when it is loaded, so a run never stops halfway on it.

``declaration_problems`` reads only the declaration; ``table_problems`` compares it with what
DescribeTable says of the tables it names (run by commands that reach the endpoint).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.schema.aggregate import Aggregate, CountOf, Mirror, Recount
from chalicelib.schema.check_fields import field_problems
from chalicelib.schema.key import Key
from chalicelib.schema.spec import Field, Kind, Phase, Rename, Schema


def declaration_problems(schema: Schema) -> list[str]:
    """Every reason ``schema`` cannot be used ([] when it can)."""
    problems: list[str] = []
    if not isinstance(schema.table, str) or not schema.table:
        problems.append("table is not named")
    if not isinstance(schema.key, Key) or not schema.key.partition:
        return [*problems, "key is missing: give key=Key(partition[, sort])"]
    fields = {f.name: f for f in schema.fields if isinstance(f, Field)}
    problems += [f"field {f!r} is not a Field" for f in schema.fields if not isinstance(f, Field)]
    for f in fields.values():
        if not isinstance(f.kind, Kind):  # a user's module is not type-checked
            problems.append(f"field {f.name} has unknown kind {f.kind!r} (known: {', '.join(k.name for k in Kind)})")  # type: ignore[unreachable]
    for name in schema.key.names:
        if name not in fields or fields[name].kind is not Kind.KEY:
            problems.append(f"key attribute {name} is not declared as a Kind.KEY field")
    if not schema.version_field or schema.version_field in fields:
        problems.append(f"version_field {schema.version_field!r} must name an attribute that is not a field")
    problems += field_problems(schema, fields)
    problems += _status_problems(schema, fields)
    problems += _aggregate_problems(schema, fields)
    problems += _rename_problems(schema, fields)
    return problems


def _rename_problems(schema: Schema, fields: Mapping[str, Field]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for rename in schema.renames:
        if not isinstance(rename, Rename):  # a user's module is not type-checked
            problems.append(f"rename {rename!r} is not a Rename")  # type: ignore[unreachable]
            continue
        what = f"rename {rename.old} -> {rename.new}"
        if rename.old == rename.new or {rename.old, rename.new} & seen:
            problems.append(f"{what}: each name may appear in one rename only, and old and new must differ")
        seen |= {rename.old, rename.new}
        if rename.new not in fields:
            problems.append(f"{what}: the new name is not declared as a field")
        if rename.phase is Phase.EXPAND and rename.old not in fields:
            problems.append(f"{what}: during EXPAND the old name is declared as a field too")
        if rename.phase is Phase.CONTRACT and rename.old in fields:
            problems.append(f"{what}: during CONTRACT the old name is removed, so it is no longer a field")
        if {rename.old, rename.new} & set(schema.key.names):
            problems.append(f"{what}: a key attribute cannot be renamed in place")
        problems += [f"{what}: {name} is kept by an aggregate; rename it in the aggregate instead"
                     for name in (rename.old, rename.new) if name in schema.aggregate_fields]
        if schema.version_field in (rename.old, rename.new):
            problems.append(f"{what}: {schema.version_field} is the version attribute, which cannot be renamed")
    return problems


def _status_problems(schema: Schema, fields: Mapping[str, Field]) -> list[str]:
    dated = [f.name for f in fields.values() if f.required_from is not None]
    if schema.status_field is None:
        return [f"{name} has required_from but the declaration has no status_field" for name in dated]
    status = fields.get(schema.status_field)
    if status is None or status.kind is not Kind.CHOICE or not status.allowed:
        return [f"status_field {schema.status_field} is not a CHOICE field with allowed values"]
    return [f"{f.name} is required_from {f.required_from!r}, not a status of {schema.status_field}"
            for f in fields.values() if f.required_from is not None and f.required_from not in status.allowed]


def _aggregate_problems(schema: Schema, fields: Mapping[str, Field]) -> list[str]:
    problems: list[str] = []
    if len(schema.aggregates) > 1:  # the backfill's counting (one scan or query per run) keeps one
        problems.append(f"{len(schema.aggregates)} aggregates: a declaration keeps at most one exact for now")
    named = set()
    for aggregate in schema.aggregates:
        if not isinstance(aggregate, Aggregate):  # a user's module is not type-checked
            problems.append(f"aggregate {aggregate!r} is not an Aggregate (e.g. CountOf)")  # type: ignore[unreachable]
            continue
        named.add(aggregate.name)
        what = f"aggregate {aggregate.name}"
        if aggregate.name not in fields or not fields[aggregate.name].supplied:
            problems.append(f"{what}: no field {aggregate.name} with supplied=True")
        if aggregate.version_field not in fields or not fields[aggregate.version_field].owned:
            problems.append(f"{what}: its version_field {aggregate.version_field} is not an owned field")
        problems += [f"{what}: group_by names {name} twice" for name, n in Counter(aggregate.group_by).items() if n > 1]
        problems += [f"{what}: group_by names {name!r} (not an attribute name)" for name in aggregate.group_by
                     if not isinstance(name, str) or not name]
        if len(aggregate.group_by) != len(schema.key.names):
            problems.append(f"{what}: group_by {list(aggregate.group_by)} must name one source attribute "
                            f"per key attribute of {schema.table} ({', '.join(schema.key.names)})")
        if aggregate.source.key.partition not in aggregate.group_by:
            problems.append(f"{what}: the partition key {aggregate.source.key.partition} of {aggregate.source.table} "
                            "must be one of group_by (a group is counted with one Query)")
        problems += _strategy_problems(schema, aggregate, fields)
    problems += [f"field {f.name} is supplied=True but no aggregate is named {f.name}"
                 for f in fields.values() if f.supplied and f.name not in named]
    return problems


def _strategy_problems(schema: Schema, aggregate: Aggregate, fields: Mapping[str, Field]) -> list[str]:
    what = f"aggregate {aggregate.name}"
    strategy = aggregate.strategy
    if isinstance(strategy, Recount):
        return []
    if not isinstance(strategy, Mirror):  # a user's module is not type-checked
        return [f"{what}: strategy {strategy!r} is neither Recount() nor Mirror(table, key, marker)"]  # type: ignore[unreachable]
    problems: list[str] = []
    if not isinstance(aggregate, CountOf):
        problems.append(f"{what}: a Mirror keeps counts only (CountOf), not a {type(aggregate).__name__}")
    if not isinstance(strategy.table, str) or not strategy.table:
        problems.append(f"{what}: the mirror table is not named")
    elif strategy.table in schema.table_keys:
        problems.append(f"{what}: the mirror table {strategy.table} is a table the declaration migrates or reads")
    if not isinstance(strategy.key, Key) or strategy.key.sort is None:
        problems.append(f"{what}: the mirror key must be Key(partition, sort): the item's name, then the member's")
    if not aggregate.member_attributes:
        problems.append(f"{what}: every key attribute of {aggregate.source.table} is in group_by, so a group has "
                        "at most one member and nothing tells members apart: recount it instead")
    if not isinstance(strategy.marker, str) or not strategy.marker:
        problems.append(f"{what}: the mirror marker attribute is not named")
    elif strategy.marker in fields or strategy.marker in (schema.version_field, aggregate.version_field):
        problems.append(f"{what}: the mirror marker {strategy.marker} must be an attribute of its own, not a field")
    return problems


def table_problems(schema: Schema, describe: Callable[[str], Mapping[str, Any] | None],
                   names: Mapping[str, str]) -> list[str]:
    """Where the tables (``names``: declared name -> actual name; ``describe``: DescribeTable's
    Table, None when it does not exist) differ from the declaration: a missing table, or another key."""
    problems: list[str] = []
    for declared, key in {**schema.table_keys, **schema.mirror_keys}.items():
        actual = names.get(declared, declared)
        table = describe(actual)
        if table is None:
            problems.append(f"table {actual} does not exist")
            continue
        found = tuple(k["AttributeName"] for k in sorted(table.get("KeySchema", []), key=lambda k: k["KeyType"]))
        if found != key.names:
            problems.append(f"table {actual} has key ({', '.join(found)}), the declaration says ({', '.join(key.names)})")
    return problems
