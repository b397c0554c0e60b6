"""Aggregates: values on the migrated items kept exact from the items of another table.

An aggregate names the attribute it keeps (``itemCount``), the attribute bumped on each
of its writes (``countVersion``: concurrent recounts detect each other), the source table and
the source attributes that hold the target item's key (``group_by``, in the target key's
order). What it computes from the source items is the kind's: ``CountOf`` adds 1 per item. A new
kind (a sum, say) is a subclass with its own ``reads`` and ``contribution``; the planner, the
counting and verify only use this interface.
"""

from __future__ import annotations

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
class Aggregate(ABC):
    name: str  # the attribute kept exact on the target item
    source: Source
    group_by: tuple[str, ...]  # source attributes holding the target item's key, in key order
    version_field: str  # bumped on every write of ``name``

    @property
    @abstractmethod
    def reads(self) -> tuple[str, ...]:
        """Source attributes the value is computed from, besides ``group_by``."""

    @abstractmethod
    def contribution(self, source_item: Mapping[str, Any]) -> int:
        """What one source item adds to its group's value."""

    @property
    def describe(self) -> str:
        return f"{self.name} = {type(self).__name__} {self.source.table} by {', '.join(self.group_by)}"

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
