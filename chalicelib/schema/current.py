"""The events migration: the current event schema (v2), declared once. The default declaration
(``chalicelib.schema.active``); another team's migration is a module like this one. Validation, the repair pass, the planner's
guard, verify's status workflow and the stream handlers' carry-forward all read it from here.

To change the schema, change this declaration (see the README, "The next schema change").
"""

from __future__ import annotations

from chalicelib.schema.aggregate import CountOf, Source
from chalicelib.schema.defaults import constant, dated_from
from chalicelib.schema.key import Key
from chalicelib.schema.spec import Field, Kind, Schema

COUNT_VERSION = "countVersion"
PARTICIPANT_COUNT = "participantCount"

PARTICIPANTS = Source("participants", Key("eventId", "participantId"))


V2_FIELDS: tuple[Field, ...] = (
    Field("eventId", Kind.KEY, required=True),
    Field("name", Kind.STRING),
    Field("topic", Kind.STRING, carried=True),
    Field("description", Kind.STRING, carried=True),
    Field("createdAt", Kind.TIMESTAMP, required=True),
    Field(
        "status", Kind.CHOICE, required=True, owned=True,
        allowed=("draft", "setup", "live", "completed"),  # the workflow, in order
        aliases={"waiting": "setup", "active": "live"},  # the legacy (v1) vocabulary
    ),
    Field("visibility", Kind.CHOICE, required=True, owned=True, allowed=("private", "public"),
          default=constant("private"), carried=True),
    Field("isTemplate", Kind.BOOLEAN, required=True, owned=True, default=constant(False), carried=True),
    Field("lastModified", Kind.TIMESTAMP, required=True, owned=True,
          default=dated_from("createdAt"), reads=("createdAt",)),
    Field("startedAt", Kind.TIMESTAMP, owned=True, required_from="live", not_before="createdAt",
          default=dated_from("createdAt"), reads=("createdAt",)),
    Field("completedAt", Kind.TIMESTAMP, owned=True, required_from="completed", not_before="startedAt",
          default=dated_from("startedAt"), reads=("startedAt",)),
    # Kept exact by the count mechanism (chalicelib.counts), which bumps countVersion on every
    # write of participantCount so concurrent recounts detect each other.
    Field(PARTICIPANT_COUNT, Kind.COUNT, required=True, owned=True, supplied=True),
    Field(COUNT_VERSION, Kind.COUNT, owned=True),
)

V2 = Schema(
    table="events",
    key=Key("eventId"),
    version=2,
    version_field="schemaVersion",
    status_field="status",
    fields=V2_FIELDS,
    aggregates=(CountOf(PARTICIPANT_COUNT, PARTICIPANTS, group_by=("eventId",), version_field=COUNT_VERSION),),
    steps=(),  # v1 -> v2 changed no structure: legacy values are aliases, new fields defaults
)

CURRENT = V2
