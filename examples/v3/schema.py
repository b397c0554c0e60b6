"""A worked example of the next schema change: v3, declared as a change to v2.

v3 adds two fields:
- ``language``: a new field with a default. Events written before v3 (and by old writers,
  which do not know the field) get ``"en"``; a legacy whole-item put drops it, so the live path
  carries it forward from the stream record's OldImage (``carried=True``).
- ``createdDay``: derived from existing data, the UTC calendar day of ``createdAt``
  (``"2023-11-14"``), so the application can query events by day. It is recomputed whenever
  it is missing or does not follow from ``createdAt``, and verify checks that it does.

Neither is a structural change (no rename, no split), so v3 needs no step: the repair pass fills
both in on v1 and v2 rows alike. This is the whole migration; see docs/how-to/next-schema-change.md
and ``examples/v3/test_v3.py`` for the runs that prove it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from chalicelib.schema import Context, Field, Kind
from chalicelib.schema.current import V2
from chalicelib.schema.defaults import constant
from chalicelib.schema.values import as_timestamp


def created_day(item: Mapping[str, Any], ctx: Context) -> str | None:
    created = as_timestamp(item.get("createdAt"))
    if created is None:
        return None
    return datetime.fromtimestamp(created / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


V3 = replace(
    V2,
    version=3,
    fields=(
        *V2.fields,
        Field("language", Kind.CHOICE, required=True, owned=True, allowed=("en", "de", "fr", "ja"),
              default=constant("en"), carried=True),
        Field("createdDay", Kind.STRING, required=True, owned=True, default=created_day,
              derived=True, reads=("createdAt",)),
    ),
)

SCHEMA = V3
