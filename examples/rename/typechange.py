"""A worked type change, worked the same way as the rename: ``tags``, a comma-separated string
(``"beer, quiz"``) written by the v2 app, becomes ``tagSet``, a DynamoDB string set (SS).

A string set cannot hold the empty string and has no order, so the conversion trims each tag,
drops empty ones and sorts them back into a string; a value with no tag at all (``" , "``) has
no string set, so it is refused (reported), never guessed. During EXPAND both are kept in step
(``tags`` rewritten from the set by the new app's writes); CONTRACT removes ``tags``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.schema import Field, Kind, Phase, Rename
from chalicelib.schema.current import V2


def tag_set(tags: Any) -> set[str] | None:
    """``"beer, quiz"`` -> ``{"beer", "quiz"}``; None when it is not a string or holds no tag."""
    if not isinstance(tags, str):
        return None
    found = {tag.strip() for tag in tags.split(",")} - {""}
    return found or None


def tag_string(tag_set: Any) -> str:
    """``{"quiz", "beer"}`` -> ``"beer,quiz"`` (sorted: a set has no order)."""
    return ",".join(sorted(tag_set))


TAG_SET = Field("tagSet", Kind.STRING_SET, owned=True, carried=True)
TAGS = Field("tags", Kind.STRING, owned=True, carried=True)

TAGS_EXPAND = replace(
    V2, version=3, fields=(*V2.fields, TAGS, TAG_SET),
    renames=(Rename("tags", "tagSet", Phase.EXPAND, to_new=tag_set, to_old=tag_string),),
)
TAGS_CONTRACT = replace(
    V2, version=4, fields=(*V2.fields, TAG_SET),
    renames=(Rename("tags", "tagSet", Phase.CONTRACT, to_new=tag_set, to_old=tag_string),),
)

SCHEMA = TAGS_EXPAND
