"""Validation and the repair pass, both derived from a ``Schema`` declaration.

``validate(item)`` lists every reason an item is not a valid current item. ``repair(item)``
brings any item, whatever version wrote it, to the current shape without guessing: legacy
aliases mapped, absent fields defaulted, the version set; a value it cannot trust is a problem
(the item is refused), never coerced. Structural steps (``Schema.steps``) run before it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from chalicelib.redaction import shown
from chalicelib.schema.rename import rename_problems
from chalicelib.schema.spec import Context, Field, Kind, Schema, TimestampWindow
from chalicelib.schema.values import as_count, as_timestamp

_UNITS = (("seconds", 1000, 1), ("microseconds", 1, 1000), ("nanoseconds", 1, 1_000_000))


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def window_problem(name: str, ms: int, window: TimestampWindow, now_ms: int | None) -> str | None:
    """Why ``ms`` is not a plausible time in milliseconds (None when it is), naming the unit the
    number most likely is in."""
    latest = (now_ms if now_ms is not None else int(time.time() * 1000)) + window.future_slack_ms
    if window.earliest_ms <= ms <= latest:
        return None
    where = f"before {_iso(window.earliest_ms)}" if ms < window.earliest_ms else "more than a day in the future"
    for unit, multiply, divide in _UNITS:
        as_ms = ms * multiply // divide
        if window.earliest_ms <= as_ms <= latest:
            return f"{name} {ms} is {where} as milliseconds; it looks like {unit} ({_iso(as_ms)})"
    return f"{name} {ms} is {where} as milliseconds"


def value_problem(field: Field, value: Any, schema: Schema, ctx: Context, *, upgrading: bool = False) -> str | None:
    """Why ``value`` is not a valid value of ``field`` (None when it is). ``upgrading``: the
    repair pass, which maps legacy aliases first and so accepts them too (the reason says so);
    otherwise the item must be in the current shape, where a legacy value is not allowed."""
    name, kind = field.name, field.kind
    if kind is Kind.KEY and not (isinstance(value, str) and value):
        return f"{name} is not a non-empty string: {shown(value)}"
    if kind is Kind.STRING and not isinstance(value, str):
        return f"{name} is not a string: {shown(value)}"
    if kind is Kind.STRING_SET and not (isinstance(value, set) and value and all(isinstance(v, str) for v in value)):
        return f"{name} is not a set of strings: {shown(value)}"
    if kind is Kind.BOOLEAN and not isinstance(value, bool):
        return f"{name} is not a boolean: {shown(value)}"
    if kind is Kind.COUNT and as_count(value) is None:
        return f"{name} is not a non-negative integer: {shown(value)}"
    if kind is Kind.CHOICE and value not in field.allowed:
        allowed = ", ".join(field.allowed)
        if upgrading:
            legacy = f" (or legacy {', '.join(field.aliases)})" if field.aliases else ""
            return f"{name} {shown(value)} is not one of {allowed}{legacy}"
        if isinstance(value, str) and value in field.aliases:
            return f"{name} {shown(value)} is a legacy value the current shape no longer allows: it must be one of {allowed}"
        return f"{name} {shown(value)} is not one of {allowed}"
    if kind is Kind.TIMESTAMP:
        ms = as_timestamp(value)
        if ms is None:
            return f"{name} is not a non-negative integer (ms): {shown(value)}"
        return window_problem(name, ms, schema.window, ctx.now_ms)
    return None


def _derivation_problem(field: Field, item: Mapping[str, Any], ctx: Context) -> str | None:
    if not field.derived or field.default is None or field.name not in item:
        return None
    expected = field.default(item, ctx)
    if expected is None or item[field.name] == expected:
        return None
    return f"{field.name} {shown(item[field.name])} does not follow from {', '.join(field.reads)} (expected {shown(expected)})"


def _required(field: Field, item: Mapping[str, Any], schema: Schema) -> bool:
    if field.required_from is not None:
        return schema.reached(schema.status(item), field.required_from)
    return field.required


def _order_problems(item: Mapping[str, Any], schema: Schema) -> list[str]:
    problems = []
    for field in schema.fields:
        if field.not_before is None or field.name not in item:
            continue
        if field.not_before not in item:
            problems.append(f"{field.name} is set but {field.not_before} is not")
            continue
        this, earliest = as_timestamp(item[field.name]), as_timestamp(item[field.not_before])
        if this is not None and earliest is not None and this < earliest:
            problems.append(f"{field.name} {this} is before {field.not_before} {earliest}")
    return problems


def validate(item: Mapping[str, Any], schema: Schema, ctx: Context = Context()) -> list[str]:  # noqa: B008
    """Every reason ``item`` is not a valid item of ``schema`` ([] when it is)."""
    problems: list[str] = []
    version = item.get(schema.version_field)
    if as_count(version) != schema.version:
        problems.append(f"{schema.version_field} is missing, expected {schema.version}" if version is None
                        else f"{schema.version_field} is {shown(version)}, expected {schema.version}")
    for field in schema.fields:
        if field.name not in item:
            if _required(field, item, schema):
                when = f" for {schema.status_field} {schema.status(item)}" if field.required_from else ""
                problems.append(f"{field.name} is missing{when}")
            continue
        problem = value_problem(field, item[field.name], schema, ctx) or _derivation_problem(field, item, ctx)
        if problem:
            problems.append(problem)
    return problems + _order_problems(item, schema) + rename_problems(item, schema, ctx.deferred)


def repair(item: Mapping[str, Any], schema: Schema, ctx: Context, problems: list[str]) -> dict[str, Any]:
    """``item`` in the current shape: aliases mapped, absent fields defaulted, version set.

    Appends to ``problems`` every value it cannot trust (then returns early: nothing is derived
    from untrusted data). Raises ValueError when a supplied field (an aggregate's value) is
    absent and the caller gave none: that is a caller error, not bad data.
    """
    out = dict(item)
    given = ctx.aggregates
    for field in schema.fields:
        if field.name not in out or (field.supplied and field.name in given) or field.derived:
            continue  # (a derived value is recomputed below, whatever was there)
        value = out[field.name]
        if isinstance(value, str) and value in field.aliases:
            out[field.name] = value = field.aliases[value]
        problem = value_problem(field, value, schema, ctx, upgrading=True)
        if problem:
            problems.append(problem)
    for field in schema.fields:  # absent required fields nothing can fill: refuse, do not guess
        if field.required and field.default is None and not field.supplied and field.name not in out:
            problems.append(f"{field.name} is missing")
    if problems:
        return out
    for field in schema.fields:  # declaration order: a default may read one filled before it
        if field.supplied and field.name in given:
            out[field.name] = given[field.name]
        elif (field.name in out and not field.derived) or not _required(field, out, schema):
            continue
        elif field.supplied:
            raise ValueError(f"item {schema.key.describe(out)!r} has no {field.name}: pass its aggregate value")
        elif field.default is not None:
            value = field.default(out, ctx)
            if value is None:
                problems.append(f"{field.name} is missing and cannot be derived")
            else:
                out[field.name] = value
    out[schema.version_field] = schema.version
    return out
