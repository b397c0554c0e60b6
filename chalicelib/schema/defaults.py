"""Defaults a declaration's fields use: a constant, and a transition date."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.schema.spec import Context, Default
from chalicelib.schema.values import as_timestamp


def dated_from(earlier: str) -> Default:
    """Default of a transition date: when it was observed (stream record time), never before
    ``earlier``; in the backfill, where nothing was observed, ``earlier`` itself."""

    def default(item: Mapping[str, Any], ctx: Context) -> int | None:
        floor = as_timestamp(item.get(earlier))
        if floor is None:
            return None
        return max(floor, ctx.observed_at_ms) if ctx.observed_at_ms is not None else floor

    return default


def constant(value: Any) -> Default:
    return lambda item, ctx: value
