"""What the declaration check says of a changed declaration (a ``Schema`` is checked when made)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.schema import DeclarationError, Schema


def problems_of(base: Schema, **changes: Any) -> list[str]:
    """Every reason ``replace(base, **changes)`` is refused ([] when it is made)."""
    try:
        replace(base, **changes)
    except DeclarationError as error:
        return error.problems
    return []
