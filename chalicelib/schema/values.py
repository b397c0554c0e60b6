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
