"""The language of the schema declaration: what a field is, and what a schema version is.

A ``Schema`` is a value: its fields (type, allowed values, legacy aliases, default, date rules),
its status workflow and its structural steps. ``repair`` and ``validate`` (in
``chalicelib.schema.rule``) are derived from it; nothing else states a schema fact.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class Kind(enum.Enum):
    STRING = "string"  # any string
    KEY = "key"  # a non-empty string
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # integer milliseconds since the epoch, inside the plausible window
    COUNT = "count"  # a non-negative integer
    CHOICE = "choice"  # one of ``Field.allowed``


@dataclass(frozen=True)
class Context:
    """What the rule may know beyond the item itself.

    participant_count: exact count to write, or None to keep the item's own.
    observed_at_ms: when the write being upgraded happened (stream record time); None in the
        backfill, where createdAt is the only trustworthy date.
    now_ms: the clock, for the "not in the future" half of the timestamp window.
    """

    participant_count: int | None = None
    observed_at_ms: int | None = None
    now_ms: int | None = None


# A default: given the item as repaired so far and the context, the value (None: no default).
Default = Callable[[Mapping[str, Any], Context], Any]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    owned: bool = False  # written by the migration (only owned fields are ever written)
    allowed: tuple[str, ...] = ()  # CHOICE: the values, in workflow order where that matters
    aliases: Mapping[str, str] = field(default_factory=dict)  # legacy value -> current value
    default: Default | None = None  # filled in when absent
    derived: bool = False  # the default is the only valid value (a function of ``reads``)
    reads: tuple[str, ...] = ()  # other fields the default is computed from (guarded on write)
    required_from: str | None = None  # TIMESTAMP: required once the status reaches this one
    not_before: str | None = None  # TIMESTAMP: never earlier than this other timestamp
    supplied: bool = False  # the caller supplies the value (the participant count)
    carried: bool = False  # a legacy whole-item write drops it: the live path carries it forward


@dataclass(frozen=True)
class Step:
    """A structural change from one version to the next (rename, split): ``apply`` returns the
    item in the new structure and appends a reason to ``problems`` when it cannot."""

    from_version: int
    apply: Callable[[dict[str, Any], Context, list[str]], dict[str, Any]]


@dataclass(frozen=True)
class TimestampWindow:
    """Timestamps outside [earliest_ms, now + future_slack_ms] are refused, not guessed: a value
    in seconds or microseconds read as milliseconds lands in 1970 or far in the future."""

    earliest_ms: int = 946_684_800_000  # 2000-01-01T00:00:00Z
    future_slack_ms: int = 86_400_000  # one day


@dataclass(frozen=True)
class Schema:
    version: int
    key: str  # the table's partition key
    version_field: str
    status_field: str
    fields: tuple[Field, ...]
    steps: tuple[Step, ...] = ()  # structural steps, one per version that needs one
    window: TimestampWindow = TimestampWindow()

    # Derived facts are computed once per schema value: the rule asks for them several times
    # per item, and the backfill runs the rule twice per item (plan, then write).
    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        return self._by_name[name]

    @cached_property
    def owned(self) -> frozenset[str]:
        """The attributes the migration writes; everything else belongs to the application."""
        return frozenset(f.name for f in self.fields if f.owned) | {self.version_field}

    @cached_property
    def inputs(self) -> frozenset[str]:
        """Unowned attributes the owned ones are computed from (a write checks they held)."""
        return frozenset(name for f in self.fields for name in f.reads) - self.owned

    @cached_property
    def workflow(self) -> tuple[str, ...]:
        """The statuses in the only order an event moves through them."""
        return self.field(self.status_field).allowed

    @property
    def status_aliases(self) -> Mapping[str, str]:
        return self.field(self.status_field).aliases

    def canonical_status(self, raw: Any) -> str | None:
        """``raw`` in the current vocabulary (legacy aliases mapped), or None when it is not one."""
        if not isinstance(raw, str):
            return None
        if raw in self.workflow:
            return raw
        return self.status_aliases.get(raw)

    def reached(self, status: str | None, milestone: str) -> bool:
        """True when ``status`` is ``milestone`` or later in the workflow."""
        position = self._workflow_position
        return status in position and position[status] >= position[milestone]

    @cached_property
    def _workflow_position(self) -> dict[str | None, int]:
        return {status: index for index, status in enumerate(self.workflow)}

    @property
    def carried(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.carried)

    def dated(self) -> dict[str, str]:
        """Transition timestamps and the status that makes each: {"startedAt": "live", ...}."""
        return {f.name: f.required_from for f in self.fields if f.required_from is not None}
