"""The declaration language (``spec``, ``key``, ``aggregate``), the events declaration
(``current``, the default) and the rule derived from whichever declaration is active.

Pure functions only: items in, items out. Items are plain Python values as produced by
``chalicelib.items.to_python`` (numbers are Decimal, sets are set, binary is Binary).
"""

from chalicelib.schema.active import active_schema, load_schema, schema_from, use_schema
from chalicelib.schema.aggregate import Aggregate, CountOf, Source
from chalicelib.schema.current import CURRENT
from chalicelib.schema.errors import DeclarationError, UpgradeRefused
from chalicelib.schema.key import Key
from chalicelib.schema.spec import (
    Context,
    Field,
    Kind,
    Phase,
    Rename,
    Schema,
    Step,
    TimestampWindow,
)
from chalicelib.schema.upgrade import changed_fields, needs_upgrade, upgrade_item
from chalicelib.schema.validate import validate_item

__all__ = [
    "Aggregate",
    "CountOf",
    "DeclarationError",
    "Key",
    "Source",
    "load_schema",
    "schema_from",
    "CURRENT",
    "Context",
    "Field",
    "Kind",
    "Phase",
    "Rename",
    "Schema",
    "Step",
    "TimestampWindow",
    "UpgradeRefused",
    "active_schema",
    "changed_fields",
    "needs_upgrade",
    "upgrade_item",
    "use_schema",
    "validate_item",
]
