"""``validate_item``: every reason an item is not valid under the active schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.schema.active import active_schema
from chalicelib.schema.rule import validate
from chalicelib.schema.spec import Context, Schema


def validate_item(item: Mapping[str, Any], schema: Schema | None = None, *, now_ms: int | None = None) -> list[str]:
    """The problems that keep ``item`` from being a valid current item ([] when valid)."""
    return validate(item, schema or active_schema(), Context(now_ms=now_ms))
