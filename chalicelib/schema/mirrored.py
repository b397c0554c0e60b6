"""The events migration with ``participantCount`` kept by a membership mirror instead of a
recount (``chalicelib.mirror``): the same declaration as ``current.V2`` but for the aggregate's
strategy. Use it with ``--schema chalicelib.schema.mirrored:EVENTS`` (and ``DYNAMO_EVOLVE_SCHEMA``
in the Lambda); switching a live deployment to it is docs/how-to/mirror.md.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.schema.aggregate import CountOf, Mirror
from chalicelib.schema.current import COUNT_VERSION, PARTICIPANT_COUNT, PARTICIPANTS, V2
from chalicelib.schema.key import Key

PARTICIPANT_MEMBERS = Mirror(
    table="participant_members",  # one row per (event, participant): present, or a tombstone
    key=Key("eventId", "participantId"),
    marker="participantCountMirrored",  # on an event: its count is the mirror's (ADD +-1 per change)
)

EVENTS = replace(V2, aggregates=(
    CountOf(PARTICIPANT_COUNT, PARTICIPANTS, group_by=("eventId",), version_field=COUNT_VERSION,
            strategy=PARTICIPANT_MEMBERS),
))
