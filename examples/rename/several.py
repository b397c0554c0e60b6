"""Several renames in one expand declaration, one of them with a type change:

- ``description`` -> ``summary`` (a plain rename);
- ``priority`` (a string of digits, ``"3"``) -> ``priorityLevel`` (a number, ``Kind.COUNT``);
- ``tags`` (a comma-separated string) -> ``tagSet`` (a string set), as in ``typechange``.

``TWO_RENAMES`` holds the first two, ``THREE_RENAMES`` all three. Each pair is one logical
attribute, kept in step on its own: a write of one pair says nothing of the others
(docs/how-to/rename.md, "Several renames").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.schema import Field, Kind, Phase, Rename
from chalicelib.schema.current import V2
from examples.rename.schema import SUMMARY
from examples.rename.typechange import TAG_SET, TAGS, tag_set, tag_string


def priority_level(priority: Any) -> int | None:
    """``"3"`` -> ``3``; None (refused) for anything but a string of ASCII digits."""
    if not isinstance(priority, str) or not priority.isascii() or not priority.isdigit():
        return None
    return int(priority)


def priority_string(level: Any) -> str:
    """``3`` -> ``"3"`` (a number read from DynamoDB is a Decimal)."""
    return str(int(level))


PRIORITY = Field("priority", Kind.STRING, owned=True)
PRIORITY_LEVEL = Field("priorityLevel", Kind.COUNT, owned=True)

DESCRIPTION_TO_SUMMARY = Rename("description", "summary", Phase.EXPAND)
PRIORITY_TO_LEVEL = Rename("priority", "priorityLevel", Phase.EXPAND, to_new=priority_level, to_old=priority_string)
TAGS_TO_SET = Rename("tags", "tagSet", Phase.EXPAND, to_new=tag_set, to_old=tag_string)

TWO_RENAMES = replace(
    V2, version=3, fields=(*V2.fields, SUMMARY, PRIORITY, PRIORITY_LEVEL),
    renames=(DESCRIPTION_TO_SUMMARY, PRIORITY_TO_LEVEL),
)
THREE_RENAMES = replace(
    V2, version=3, fields=(*V2.fields, SUMMARY, PRIORITY, PRIORITY_LEVEL, TAGS, TAG_SET),
    renames=(DESCRIPTION_TO_SUMMARY, PRIORITY_TO_LEVEL, TAGS_TO_SET),
)

SCHEMA = THREE_RENAMES
