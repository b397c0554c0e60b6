"""A declaration with no aggregate: it only repairs shapes and renames one attribute.

Notes (composite key) as an old app left them: legacy states (``active``, ``old``), no ``pinned``,
the old name ``title`` where the new app reads ``heading``. Nothing on a note is computed from
another table, so the declaration has no aggregate: the backfill, verify, restore and the live path
run with the notes table alone (``examples/notes/test_notes.py`` runs every command on it).
"""

from __future__ import annotations

from chalicelib.schema import Field, Key, Kind, Phase, Rename, Schema
from chalicelib.schema.defaults import constant

NOTES = Schema(
    table="notes",
    key=Key("notebookId", "noteId"),
    version=2,
    version_field="schemaVersion",
    fields=(
        Field("notebookId", Kind.KEY, required=True),
        Field("noteId", Kind.KEY, required=True),
        Field("createdAt", Kind.TIMESTAMP, required=True),
        Field("state", Kind.CHOICE, required=True, owned=True, allowed=("open", "archived"),
              aliases={"active": "open", "old": "archived"}),
        Field("pinned", Kind.BOOLEAN, required=True, owned=True, default=constant(False), carried=True),
        Field("title", Kind.STRING, carried=True),
        Field("heading", Kind.STRING, owned=True, carried=True),
    ),
    renames=(Rename("title", "heading", Phase.EXPAND),),
)

SCHEMA = NOTES
