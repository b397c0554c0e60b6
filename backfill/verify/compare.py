"""Type-exact comparison of deserialized DynamoDB items (shared by verify and restore).

Plain Python equality is too loose for "unchanged": ``True == Decimal(1)`` and
``Binary(b"1") == b"1"``. Two values are the same here only when they have the same
DynamoDB type and the same value (numbers compare numerically, sets as sets).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from chalicelib.schema.values import is_number

_MISSING: Any = object()


def same_typed(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same DynamoDB value (type and value)."""
    if is_number(a) and is_number(b):
        return a == b  # N: int (from the upgrade rule) and Decimal (from the wire) alike
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_typed(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_typed(x, y) for x, y in zip(a, b, strict=True))
    return a == b  # str, Decimal, bool, None, Binary, and homogeneous sets of those


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
