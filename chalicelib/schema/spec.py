"""The language of the schema declaration: what a field is, and what a schema version is.

A ``Schema`` is a value: the table and its key, the version attribute, its fields (type, allowed
values, legacy aliases, default, date rules), an optional status workflow, the aggregates it keeps
exact (``chalicelib.schema.aggregate``) and its structural steps. ``repair`` and ``validate`` (in
``chalicelib.schema.rule``) are derived from it; nothing else states a schema fact.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from chalicelib.schema.aggregate import Aggregate
from chalicelib.schema.key import Key


class Kind(enum.Enum):
    STRING = "string"  # any string
    KEY = "key"  # a non-empty string
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # integer milliseconds since the epoch, inside the plausible window
    COUNT = "count"  # a non-negative integer
    CHOICE = "choice"  # one of ``Field.allowed``
    STRING_SET = "string_set"  # a non-empty set of strings (DynamoDB SS)


@dataclass(frozen=True)
class Context:
    """What the rule may know beyond the item itself.

    aggregates: aggregate name -> exact value to write (``itemCount: 3``); an aggregate
        not named keeps the item's own value.
    observed_at_ms: when the write being upgraded happened (stream record time); None in the
        backfill, where createdAt is the only trustworthy date.
    now_ms: the clock, for the "not in the future" half of the timestamp window.
    written: the attributes of a rename pair the write being upgraded changed (the live path,
        from the stream record's images; the backfill, from a write that raced it): which side of
        a pair that is out of step wins (``chalicelib.schema.rename``).
    deferred: the attributes of rename pairs this write must leave exactly as they are (the live
        path: a pair that changed since the record was written; that later write's own record
        decides it). Neither set, refused, nor judged by validation.
    """

    aggregates: Mapping[str, Any] = field(default_factory=dict)
    observed_at_ms: int | None = None
    now_ms: int | None = None
    written: frozenset[str] = frozenset()
    deferred: frozenset[str] = frozenset()


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
    required_from: str | None = None  # TIMESTAMP: required once the status reaches this one (needs a workflow)
    not_before: str | None = None  # TIMESTAMP: never earlier than this other timestamp
    supplied: bool = False  # an aggregate's value: the caller supplies it (``Context.aggregates``)
    carried: bool = False  # a legacy whole-item write drops it: the live path carries it forward


@dataclass(frozen=True)
class Step:
    """A structural change from one version to the next (split, merge): ``apply`` returns the
    item in the new structure and appends a reason to ``problems`` when it cannot.

    ``reads``: every attribute ``apply`` reads (the write is guarded on them, so an application
    write racing with it fails the write instead of being lost). ``writes``: every attribute it
    sets or removes (owned: an attribute it drops from the item is REMOVEd). Anything else it
    changes is not written. A rename, with old writers still running, is a ``Rename``."""

    from_version: int
    apply: Callable[[dict[str, Any], Context, list[str]], dict[str, Any]]
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()


class Phase(enum.Enum):
    EXPAND = "expand"  # both names kept in step (old readers and writers still run)
    CONTRACT = "contract"  # the old name removed (a late write of it moves to the new name)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Rename:
    """One attribute under a new name, and optionally a new representation (a type change):
    expand, then contract (``chalicelib.schema.rename`` holds the rule; docs/how-to/rename.md).

    ``to_new``/``to_old`` convert a value between the representations (identity for a plain
    rename); a value ``to_new`` cannot convert returns None and the item is refused. The new
    name is declared as a ``Field``; during EXPAND so is the old one."""

    old: str
    new: str
    phase: Phase
    to_new: Callable[[Any], Any] = _same
    to_old: Callable[[Any], Any] = _same


@dataclass(frozen=True)
class TimestampWindow:
    """Timestamps outside [earliest_ms, now + future_slack_ms] are refused, not guessed: a value
    in seconds or microseconds read as milliseconds lands in 1970 or far in the future."""

    earliest_ms: int = 946_684_800_000  # 2000-01-01T00:00:00Z
    future_slack_ms: int = 86_400_000  # one day


@dataclass(frozen=True)
class Schema:
    table: str  # the table migrated (its default name; deployments may rename it)
    key: Key  # its primary key
    version: int
    version_field: str  # the attribute that carries an item's schema version
    fields: tuple[Field, ...]
    status_field: str | None = None  # a CHOICE field whose allowed values are a workflow, in order
    aggregates: tuple[Aggregate, ...] = ()  # values kept exact from other tables
    steps: tuple[Step, ...] = ()  # structural steps, one per version that needs one
    renames: tuple[Rename, ...] = ()  # attributes renamed (or converted), expand then contract
    window: TimestampWindow = TimestampWindow()

    def __post_init__(self) -> None:
        """Refused when made, whoever makes it (a module ``--schema`` or the Lambda loads, a
        ``replace``): one line naming the table and every problem (``chalicelib.schema.check``)."""
        from chalicelib.schema.check import declaration_problems  # noqa: PLC0415 (check reads this module)
        from chalicelib.schema.errors import DeclarationError  # noqa: PLC0415

        problems = declaration_problems(self)
        if problems:
            raise DeclarationError(str(self.table), "; ".join(problems), problems)

    # Derived facts are computed once per schema value: the rule asks for them several times
    # per item, and the backfill runs the rule twice per item (plan, then write).
    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        return self._by_name[name]

    @cached_property
    def owned(self) -> frozenset[str]:
        """The attributes the migration writes (sets or removes); everything else belongs to the
        application. Both names of a rename are owned: the migration keeps them in step."""
        fields = frozenset(f.name for f in self.fields if f.owned)
        structural = {name for s in self.steps for name in s.writes} | {n for r in self.renames for n in (r.old, r.new)}
        return fields | structural | {self.version_field}

    @cached_property
    def inputs(self) -> frozenset[str]:
        """Unowned attributes the owned ones are computed from (a write checks they held)."""
        reads = {name for f in self.fields for name in f.reads} | {name for s in self.steps for name in s.reads}
        return frozenset(reads) - self.owned

    @cached_property
    def workflow(self) -> tuple[str, ...]:
        """The statuses in the only order an item moves through them (() without a workflow)."""
        return self.field(self.status_field).allowed if self.status_field else ()

    @property
    def status_aliases(self) -> Mapping[str, str]:
        return self.field(self.status_field).aliases if self.status_field else {}

    def status(self, item: Mapping[str, Any]) -> Any:
        """The item's raw status (None without a workflow)."""
        return item.get(self.status_field) if self.status_field else None

    @cached_property
    def aggregate_fields(self) -> frozenset[str]:
        """Attributes only the aggregate mechanism writes (values, their version attributes and
        mirror markers)."""
        return frozenset(name for a in self.aggregates
                         for name in (a.name, a.version_field, *((a.mirror.marker,) if a.mirror else ())))

    def aggregate(self, name: str) -> Aggregate:
        return next(a for a in self.aggregates if a.name == name)

    @cached_property
    def table_keys(self) -> dict[str, Key]:
        """Every table the declaration names, with its key: its own, then each aggregate's source."""
        keys = {self.table: self.key}
        for aggregate in self.aggregates:
            keys.setdefault(aggregate.source.table, aggregate.source.key)
        return keys

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(self.table_keys)

    @cached_property
    def mirror_keys(self) -> dict[str, Key]:
        """The membership mirrors the aggregates keep (``Mirror``), with their keys: tables this
        tool owns, with no stream handler of their own."""
        return {a.mirror.table: a.mirror.key for a in self.aggregates if a.mirror is not None}

    @property
    def named_tables(self) -> tuple[str, ...]:
        """Every table the declaration names, mirrors included (each can be renamed)."""
        return (*self.tables, *self.mirror_keys)

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
