"""Names and vocabularies of the event schema, one place for every part to read them from."""

from __future__ import annotations

CURRENT_VERSION = 2

LEGACY_STATUS_MAP: dict[str, str] = {"waiting": "setup", "active": "live", "completed": "completed"}
STATUSES: frozenset[str] = frozenset({"draft", "setup", "live", "completed"})
VISIBILITIES: frozenset[str] = frozenset({"private", "public"})
STARTED_STATUSES: frozenset[str] = frozenset({"live", "completed"})

# Written by the participant count mechanism: bumped by every write of participantCount so
# concurrent recounts can detect each other (see chalicelib.counts).
COUNT_VERSION = "countVersion"

# Fields the migration owns: the only ones any of our writes touch. Everything else on an
# event belongs to the application and is never written, removed or defaulted by us.
OWNED_FIELDS: frozenset[str] = frozenset(
    {
        "status",
        "visibility",
        "isTemplate",
        "lastModified",
        "participantCount",
        "startedAt",
        "completedAt",
        "schemaVersion",
        COUNT_VERSION,
    }
)

# Fields an upgrade reads to compute the owned ones; a conditional write checks they did not
# change between the read and the write.
INPUT_FIELDS: frozenset[str] = frozenset({"createdAt"})

OPTIONAL_STRING_FIELDS: tuple[str, ...] = ("topic", "description")
