"""Attribute-by-attribute differences of deserialized DynamoDB items (verify and restore).

Values are compared with ``chalicelib.schema.values.same_typed`` (same DynamoDB type and value),
the equality the upgrade rule uses too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from chalicelib.items import to_typed
from chalicelib.schema.values import same_typed

__all__ = ["describe_changes", "describe_differences", "differing_attributes", "same_typed", "type_of"]

_MISSING: Any = object()


def differing_attributes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    only: Collection[str] | None = None,
    ignore: Collection[str] = (),
) -> dict[str, str]:
    """attribute -> "changed" | "removed" | "added" for every attribute that is not the same.

    ``only`` limits the comparison to those names; ``ignore`` leaves names out.
    """
    names = set(before) | set(after)
    if only is not None:
        names &= set(only)
    names -= set(ignore)
    differences: dict[str, str] = {}
    for name in sorted(names):
        old, new = before.get(name, _MISSING), after.get(name, _MISSING)
        if old is _MISSING:
            differences[name] = "added"
        elif new is _MISSING:
            differences[name] = "removed"
        elif not same_typed(old, new):
            differences[name] = "changed"
    return differences


def describe_differences(differences: Mapping[str, str]) -> str:
    return ", ".join(f"{name} ({how})" for name, how in differences.items())


def type_of(value: Any) -> str:
    """The DynamoDB type of a plain value: S, N, B, BOOL, NULL, L, M, SS, NS or BS."""
    return next(iter(to_typed({"v": value})["v"]))


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any], differences: Mapping[str, str], *,
                     show_values: bool = False) -> str:
    """Each attribute with how it changed and its DynamoDB type change: ``name (changed, S)``,
    ``topic (changed, S -> N)``, ``tags (added, SS)``, ``note (removed, was S)``. The values only
    with ``show_values`` (they are user data: not for terminals and CI logs by default)."""
    parts = []
    for name, how in differences.items():
        old, new = before.get(name, _MISSING), after.get(name, _MISSING)
        if how == "added":
            detail = f"added, {type_of(new)}" + (f": {new!r}" if show_values else "")
        elif how == "removed":
            detail = f"removed, was {type_of(old)}" + (f": {old!r}" if show_values else "")
        else:
            types = type_of(old) if type_of(old) == type_of(new) else f"{type_of(old)} -> {type_of(new)}"
            detail = f"changed, {types}" + (f": {old!r} -> {new!r}" if show_values else "")
        parts.append(f"{name} ({detail})")
    return ", ".join(parts)
