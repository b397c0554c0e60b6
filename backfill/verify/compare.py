"""Attribute-by-attribute differences of deserialized DynamoDB items (verify and restore).

Values are compared with ``chalicelib.schema.values.same_typed`` (same DynamoDB type and value),
the equality the upgrade rule uses too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from chalicelib.schema.values import same_typed

__all__ = ["describe_differences", "differing_attributes", "same_typed"]

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
