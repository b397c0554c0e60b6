"""A table's primary key, and the one string that names an item in ledgers, reports and logs.

Key attributes are strings (DynamoDB type S). An item is named by its partition key value when
the table has no sort key (``"e1"``), and by the JSON list of both values when it has one
(``["c1", "o7"]``), so a name always turns back into the key it came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Key:
    partition: str
    sort: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.partition,) if self.sort is None else (self.partition, self.sort)

    @property
    def label(self) -> str:
        """What reports call an item's name: the key attribute(s), ``orderId`` or ``customerId+orderId``."""
        return "+".join(self.names)

    def values(self, item: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The item's key values, or None when one is missing or not a non-empty string."""
        values = tuple(item.get(name) for name in self.names)
        return values if all(isinstance(v, str) and v for v in values) else None  # type: ignore[return-value]

    def name_of(self, item: Mapping[str, Any]) -> str | None:
        """The item's name (None when its key is not valid)."""
        values = self.values(item)
        return None if values is None else self.name_of_values(values)

    def name_of_values(self, values: tuple[str, ...]) -> str:
        return values[0] if self.sort is None else json.dumps(list(values))

    def describe(self, item: Mapping[str, Any]) -> object:
        """The item's name, or its raw key value(s) when they are not valid (for messages)."""
        name = self.name_of(item)
        if name is not None:
            return name
        raw = [item.get(n) for n in self.names]
        return raw[0] if self.sort is None else raw

    def values_of(self, name: str) -> tuple[str, ...]:
        """The key values a name stands for (the inverse of ``name_of``)."""
        if self.sort is None:
            return (name,)
        values = json.loads(name)
        return (str(values[0]), str(values[1]))

    def typed(self, name: str) -> dict[str, Any]:
        """The DynamoDB ``Key`` argument of the item named ``name``."""
        return {attr: {"S": value} for attr, value in zip(self.names, self.values_of(name), strict=True)}

    def name_of_typed(self, typed: Mapping[str, Any]) -> str | None:
        """The name of a typed (DynamoDB JSON) item, None when its key is not valid."""
        plain = {n: v.get("S") if isinstance(v, Mapping) else None for n in self.names for v in (typed.get(n),)}
        return self.name_of(plain)

    def of_typed(self, typed: Mapping[str, Any]) -> dict[str, Any]:
        """Only the key attributes of a typed item."""
        return {name: typed[name] for name in self.names if name in typed}

    def definitions(self) -> dict[str, Any]:
        """CreateTable's KeySchema and AttributeDefinitions for this key."""
        kinds = ("HASH", "RANGE")
        return {
            "KeySchema": [{"AttributeName": n, "KeyType": k} for n, k in zip(self.names, kinds, strict=False)],
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in self.names],
        }
