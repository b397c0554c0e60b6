"""Do the aggregate's source rows belong to groups at all? Data that contradicts the declaration.

A ``group_by`` attribute outside the source's key has no schema in DynamoDB, so the load cannot
check it: a mistyped one (``libraryId`` where the rows carry ``branchId``) puts every row in no
group, and every count is 0, written as if true. ``SourceRows`` keeps what the counting scan saw
(or a sample of the source, when the run counts by query); a run refuses, before any write, when
a ``group_by`` attribute is on none of the rows read, or no row read carries all of them
(``problem``), or rows are grouped but none names an item that exists (``ItemsMatched``: a whole
table's run). Rows that belong to no group are what verify reports (``ungrouped``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.items import to_python
from chalicelib.schema.aggregate import Aggregate

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")

# Rows a run reads to check the groups when it does not scan the whole source (--count-with query,
# the parent of --processes, verify --sample): one Scan request.
SAMPLE_ROWS = 1000


@dataclass
class SourceRows:
    """The source rows read, how many belong to a group, and how many carry each group_by attribute
    (a non-empty string, as ``Aggregate.group`` needs)."""

    rows: int = 0
    grouped: int = 0
    carrying: Counter[str] = field(default_factory=Counter)

    def see(self, aggregate: Aggregate, row: Mapping[str, Any], group: tuple[str, ...] | None) -> None:
        """One source row (plain values) and its group (``aggregate.group(row)``)."""
        self.rows += 1
        self.grouped += group is not None
        self.carrying.update(name for name in aggregate.group_by if isinstance(row.get(name), str) and row[name])

    @property
    def ungrouped(self) -> int:
        return self.rows - self.grouped

    def missing(self, aggregate: Aggregate) -> list[str]:
        """The group_by attributes none of the rows read carries."""
        return [name for name in aggregate.group_by if not self.carrying[name]]

    def problem(self, aggregate: Aggregate, table: str) -> str | None:
        """Why the rows read say the declaration's grouping cannot be right (None when some row groups,
        or the source is empty: then 0 is the truth)."""
        if self.rows == 0 or self.grouped:
            return None
        missing = self.missing(aggregate)
        if missing:
            return (f"group_by attribute {missing[0]} of aggregate {aggregate.name} is on none of the {self.rows} "
                    f"{table} rows read: every {aggregate.name} would be 0")
        return (f"none of the {self.rows} {table} rows read carries every group_by attribute of aggregate "
                f"{aggregate.name} ({', '.join(aggregate.group_by)}) as a non-empty string: every "
                f"{aggregate.name} would be 0")


def sample_source(dynamodb: DynamoDBClient, table: str, aggregate: Aggregate, limit: int = SAMPLE_ROWS) -> SourceRows:
    """What the first ``limit`` rows of ``table`` say: one Scan request (one page, at most 1 MB), of
    the group attributes only."""
    names = {f"#a{i}": name for i, name in enumerate(aggregate.group_by)}
    page = dynamodb.scan(TableName=table, Limit=limit, ProjectionExpression=", ".join(names),
                         ExpressionAttributeNames=names)
    seen = SourceRows()
    for row in map(to_python, page.get("Items", [])):
        seen.see(aggregate, row, aggregate.group(row))
    return seen


@dataclass
class ItemsMatched:
    """Whether any target item read has source rows counted for it (``counts``, from a scan of the
    whole source). When none has, though rows were grouped, every group names an item that does
    not exist: the group_by attributes name the wrong ones, or in another order than the key."""

    counts: Callable[[str], int]
    found: bool = False

    def watch(self, items: Iterable[T], name_of: Callable[[T], str | None]) -> Iterator[T]:
        """``items`` passed through, each looked up until one has rows counted."""
        for item in items:
            if not self.found:
                name = name_of(item)
                self.found = name is not None and self.counts(name) > 0
            yield item

    def problem(self, seen: SourceRows, aggregate: Aggregate, table: str, target: str,
                key_names: tuple[str, ...]) -> str | None:
        if self.found or not seen.grouped:
            return None
        return (f"none of the {seen.grouped} {table} rows grouped by {', '.join(aggregate.group_by)} names a {target} "
                f"item that exists (group_by holds the item's key in the order of {target}'s key: "
                f"{', '.join(key_names)}): every {aggregate.name} would be 0")
