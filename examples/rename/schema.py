"""A worked rename, ``description`` -> ``summary`` on events, expand then contract.

- ``EXPAND`` (version 3): every row gets ``summary`` from ``description`` and keeps ``description``.
  Old writers (the v2 app) keep writing ``description``, updates and whole-item puts that drop
  ``summary``; new writers (the v3 app) write ``summary``. The migration owns both names and keeps
  them in step: the live path copies whichever side a write changed to the other side.
- ``CONTRACT`` (version 4), once no reader needs ``description``: the backfill removes it from
  every row. A late old write of ``description`` is taken as a write of ``summary`` and the old
  name removed again.

The rule both phases follow is ``chalicelib.schema.rename``; the recipe is docs/how-to/rename.md,
and ``examples/rename/test_rename.py`` runs it step by step.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.schema import Field, Kind, Phase, Rename
from chalicelib.schema.current import V2

# v2 declares description (carried: a v1 writer's whole-item put drops it). Both phases declare
# summary the same way; the expand phase keeps description beside it.
SUMMARY = Field("summary", Kind.STRING, owned=True, carried=True)
_V2_WITHOUT_DESCRIPTION = tuple(f for f in V2.fields if f.name != "description")

EXPAND = replace(
    V2,
    version=3,
    fields=(*V2.fields, SUMMARY),
    renames=(Rename("description", "summary", Phase.EXPAND),),
)

CONTRACT = replace(
    V2,
    version=4,
    fields=(*_V2_WITHOUT_DESCRIPTION, SUMMARY),
    renames=(Rename("description", "summary", Phase.CONTRACT),),
)

SCHEMA = EXPAND
