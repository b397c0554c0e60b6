"""``upgrade_item``: structural steps from the item's version, then the repair pass, then
validation, all against the active schema (``chalicelib.schema.active``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.redaction import shown
from chalicelib.schema.active import active_schema
from chalicelib.schema.errors import UpgradeRefused
from chalicelib.schema.rename import sync
from chalicelib.schema.rule import repair, validate
from chalicelib.schema.spec import Context, Schema
from chalicelib.schema.values import as_count, same_typed


def schema_version(item: Mapping[str, Any], schema: Schema) -> int:
    """The item's declared version (1 when absent). Raises UpgradeRefused when garbled."""
    raw = item.get(schema.version_field, 1)
    version = as_count(raw)
    if version is None or version < 1:
        raise UpgradeRefused(schema.key.describe(item), [f"{schema.version_field} is not a positive integer: {shown(raw)}"])
    if version > schema.version:
        raise UpgradeRefused(
            schema.key.describe(item),
            [f"{schema.version_field} {version} is newer than this code knows ({schema.version})"],
        )
    return version


def is_newer(item: Mapping[str, Any], schema: Schema) -> bool:
    """True when ``item`` was written by a newer version of the declaration than ``schema``:
    another deployment's, which this code must leave untouched (versions run side by side)."""
    version = as_count(item.get(schema.version_field, 1))
    return version is not None and version > schema.version


def upgrade_item(
    item: Mapping[str, Any],
    *,
    aggregates: Mapping[str, Any] | None = None,
    observed_at_ms: int | None = None,
    now_ms: int | None = None,
    written: frozenset[str] = frozenset(),
    deferred: frozenset[str] = frozenset(),
    schema: Schema | None = None,
) -> dict[str, Any]:
    """Return ``item`` upgraded to the current schema. Pure, deterministic and idempotent.

    Only owned fields are added, changed or removed; every other attribute is returned untouched. The
    repair pass runs whatever the item's version, so an old writer's legacy value on a current
    row is repaired like a legacy row. ``now_ms`` bounds timestamps (the clock when None).

    Raises UpgradeRefused (with every reason) when the item cannot be upgraded without guessing,
    and ValueError when the item has no value of an aggregate and none is given in ``aggregates``
    (aggregate name -> exact value). ``written``, ``deferred``: see ``Context``.
    """
    schema = schema or active_schema()
    item_name = schema.key.name_of(item)
    if item_name is None:
        bad = next(n for n in schema.key.names if not (isinstance(item.get(n), str) and item.get(n)))
        raise UpgradeRefused(schema.key.describe(item), [f"{bad} is not a non-empty string: {shown(item.get(bad))}"])
    version = schema_version(item, schema)
    ctx = Context(aggregates=aggregates or {}, observed_at_ms=observed_at_ms, now_ms=now_ms, written=written,
                  deferred=deferred)
    problems: list[str] = []
    current = dict(item)
    for step in schema.steps:
        if step.from_version >= version:
            current = step.apply(current, ctx, problems)
            if problems:
                raise UpgradeRefused(item_name, problems)
    current = sync(current, schema, ctx, problems)  # renames, whatever the item's version
    if problems:
        raise UpgradeRefused(item_name, problems)
    current = repair(current, schema, ctx, problems)
    problems = problems or validate(current, schema, ctx)
    if problems:
        raise UpgradeRefused(item_name, problems)
    return current


def needs_upgrade(item: Mapping[str, Any], schema: Schema | None = None) -> bool:
    """True when the item is not a valid current-version item (so an upgrade would change it)."""
    return bool(validate(item, schema or active_schema()))


def removed_fields(before: Mapping[str, Any], after: Mapping[str, Any], fields: frozenset[str]) -> tuple[str, ...]:
    """``fields`` present in ``before`` and absent from ``after``: the write REMOVEs them."""
    return tuple(sorted(name for name in fields if name in before and name not in after))


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """``fields`` (the active schema's owned ones by default) that differ from ``before`` in ``after``."""
    names = fields if fields is not None else active_schema().owned
    return {
        name: after[name]
        for name in sorted(names)
        if name in after and (name not in before or not same_typed(before[name], after[name]))
    }
