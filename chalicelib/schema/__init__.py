"""The event schema: one declaration (``current``), and the rule derived from it.

Pure functions only: items in, items out. Items are plain Python values as produced by
``chalicelib.items.to_python`` (numbers are Decimal, sets are set, binary is Binary).
"""

from chalicelib.schema.active import active_schema, use_schema
from chalicelib.schema.current import COUNT_FIELDS, COUNT_VERSION, CURRENT, PARTICIPANT_COUNT
from chalicelib.schema.errors import UpgradeRefused
from chalicelib.schema.spec import Context, Field, Kind, Schema, Step, TimestampWindow
from chalicelib.schema.upgrade import changed_fields, needs_upgrade, upgrade_event
from chalicelib.schema.validate import validate_event

__all__ = [
    "COUNT_FIELDS",
    "COUNT_VERSION",
    "CURRENT",
    "PARTICIPANT_COUNT",
    "Context",
    "Field",
    "Kind",
    "Schema",
    "Step",
    "TimestampWindow",
    "UpgradeRefused",
    "active_schema",
    "changed_fields",
    "needs_upgrade",
    "upgrade_event",
    "use_schema",
    "validate_event",
]
