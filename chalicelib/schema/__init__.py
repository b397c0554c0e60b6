"""The versioned upgrade rule shared by the backfill and the stream handlers.

Pure functions only: items in, items out. Items are plain Python values as produced by
boto3's TypeDeserializer (numbers are Decimal, sets are set, binary is Binary).
"""

from chalicelib.schema.errors import UpgradeRefused
from chalicelib.schema.fields import (
    COUNT_VERSION,
    CURRENT_VERSION,
    LEGACY_STATUS_MAP,
    OWNED_FIELDS,
    STATUSES,
)
from chalicelib.schema.upgrade import changed_fields, event_key, needs_upgrade, upgrade_event
from chalicelib.schema.validate import validate_event

__all__ = [
    "COUNT_VERSION",
    "CURRENT_VERSION",
    "LEGACY_STATUS_MAP",
    "OWNED_FIELDS",
    "STATUSES",
    "UpgradeRefused",
    "changed_fields",
    "event_key",
    "needs_upgrade",
    "upgrade_event",
    "validate_event",
]
