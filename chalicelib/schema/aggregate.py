"""Aggregates: values on the migrated items kept exact from the items of another table.

An aggregate names the attribute it keeps (``itemCount``), the attribute bumped on each
of its writes (``countVersion``: concurrent recounts detect each other), the source table and
the source attributes that hold the target item's key (``group_by``, in the target key's
order). What it computes from the source items is the kind's: ``CountOf`` adds 1 per item. A new
kind (a sum, say) is a subclass with its own ``reads`` and ``contribution``; the planner, the
counting and verify only use this interface.

How the live path keeps a count exact is the aggregate's ``strategy``: ``Recount()`` (the default:
one consistent Query per touched group per batch, cost growing with the group) or ``Mirror(...)``
(a table of one row per member, kept with one TransactWriteItems per stream record that flips
the member's row and ADDs +-1 to the count: constant cost per record; ``chalicelib.mirror``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.schema.key import Key


@dataclass(frozen=True)
class Source:
    """A table an aggregate reads: its default name and its primary key."""

    table: str
    key: Key


@dataclass(frozen=True)
class Recount:
    """Recount each touched group from the source table (``chalicelib.counts``)."""

    name = "recount"


@dataclass(frozen=True)
class Mirror:
    """Keep a count with a membership mirror (``chalicelib.mirror``).

    table: the mirror table's declared name (renamed like any other: ``<TABLE>_TABLE``).
    key: its key; the partition attribute holds the target item's name (``Key.name_of``), the
        sort attribute the member's (the source key attributes outside ``group_by``).
    marker: the attribute on the target item that says its count is kept by the mirror (ADD +-1
        per membership change); an item without it is recounted while the mirror is seeded.
    """

    table: str
    key: Key
    marker: str
    name = "mirror"


Strategy = Recount | Mirror


@dataclass(frozen=True)
class Aggregate(ABC):
    name: str  # the attribute kept exact on the target item
    source: Source
    group_by: tuple[str, ...]  # source attributes holding the target item's key, in key order
    version_field: str  # bumped on every write of ``name``
    strategy: Strategy = Recount()  # how the live path keeps it (module doc)

    @property
    @abstractmethod
    def reads(self) -> tuple[str, ...]:
        """Source attributes the value is computed from, besides ``group_by``."""

    @abstractmethod
    def contribution(self, source_item: Mapping[str, Any]) -> int:
        """What one source item adds to its group's value."""

    @property
    def describe(self) -> str:
        kept = f", mirrored in {self.strategy.table}" if isinstance(self.strategy, Mirror) else ""
        return f"{self.name} = {type(self).__name__} {self.source.table} by {', '.join(self.group_by)}{kept}"

    @property
    def mirror(self) -> Mirror | None:
        """The membership mirror that keeps this aggregate, None when it is recounted."""
        return self.strategy if isinstance(self.strategy, Mirror) else None

    @property
    def member_attributes(self) -> tuple[str, ...]:
        """Source key attributes that tell the members of one group apart (outside ``group_by``)."""
        return tuple(name for name in self.source.key.names if name not in self.group_by)

    def member(self, source_item: Mapping[str, Any]) -> str | None:
        """The member's name within its group: its one member attribute, or the JSON list of them."""
        values = tuple(source_item.get(name) for name in self.member_attributes)
        if not values or not all(isinstance(v, str) and v for v in values):
            return None
        return values[0] if len(values) == 1 else json.dumps(list(values))

    def group(self, source_item: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The target key values a source item (plain values) belongs to, None when it has none."""
        values = tuple(source_item.get(name) for name in self.group_by)
        return values if all(isinstance(v, str) and v for v in values) else None  # type: ignore[return-value]


@dataclass(frozen=True)
class CountOf(Aggregate):
    """The number of source items in the group (itemCount = order_items by customerId, orderId)."""

    @property
    def reads(self) -> tuple[str, ...]:
        return ()

    def contribution(self, source_item: Mapping[str, Any]) -> int:
        return 1
