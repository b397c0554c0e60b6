"""Small type checks on deserialized DynamoDB values (numbers arrive as Decimal)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def as_timestamp(value: Any) -> int | None:
    """Return ``value`` as integer ms since epoch, or None when it is not a non-negative integer."""
    if not is_number(value):
        return None
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        return None
    as_int = int(value)
    return as_int if as_int >= 0 else None


def as_count(value: Any) -> int | None:
    """Return ``value`` as a non-negative integer count, or None."""
    return as_timestamp(value)


def same_typed(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same DynamoDB value: same type and value.

    Plain equality is too loose for "unchanged" (``True == Decimal(1)``, ``Binary(b"1") == b"1"``);
    numbers compare numerically (int from the upgrade rule, Decimal from the wire), sets as sets.
    """
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_typed(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_typed(x, y) for x, y in zip(a, b, strict=True))
    return a == b  # str, bool, None, Binary, and homogeneous sets of those
