"""Keeping a count exact with a membership mirror (``Mirror`` in the declaration).

The mirror table holds one row per (item, member): ``present`` true while the member belongs
to the item's group, false once it left (a tombstone), and ``sequenceNumber``, the stream position
of the last record applied to the row (absent on a row the backfill seeded: older than any
record). A membership change is applied to its row only when the row is older than it, so a
record applied twice, a stale duplicate after a newer record, or a retry of an earlier record
after a later one changes nothing; the row always ends in the state of the newest record applied.

A change that flips the row (absent or tombstone -> present, present -> tombstone) is one
``TransactWriteItems`` of two items: the row's put, conditioned on its state, and the item's
update. On an item whose count the mirror keeps (it has the declared ``marker``) that update ADDs
+-1 to the count and 1 to its version attribute, so the count always equals the item's present
rows. On an item without the marker (while the mirror is being seeded: docs/how-to/mirror.md)
it only ADDs 1 to the version attribute, so a recount racing with it fails its guard; the caller
recounts such an item. A change that does not flip the row (a join of a present row, a leave of
an absent one) is one conditional write of the row alone: the count does not move.

Nothing is ever added to an item that does not exist (the update is conditioned on its key), so
no phantom item appears; the change is then reported to the caller and the row is left alone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.backoff import Backoff
from chalicelib.item_store import ABSENT, ItemWrites
from chalicelib.planner import next_version
from chalicelib.schema.aggregate import Aggregate, Mirror
from chalicelib.schema.key import Key

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import PutTypeDef

PRESENT = "present"  # BOOL: the member belongs to the group (false: a tombstone)
SEQUENCE = "sequenceNumber"  # S: the last record applied, zero-padded to compare as text
SEQUENCE_WIDTH = 40  # DynamoDB Streams sequence numbers have 21 to 40 digits
MAX_ATTEMPTS = 8
MAX_MARK_ATTEMPTS = 8


def position(sequence_number: str) -> str:
    """A stream record's sequence number as a row's position: compares in stream order as text."""
    if not sequence_number.isdigit() or len(sequence_number) > SEQUENCE_WIDTH:
        raise ValueError(f"sequence number {sequence_number!r} is not 1 to {SEQUENCE_WIDTH} digits")
    return sequence_number.zfill(SEQUENCE_WIDTH)


class MirrorRefused(Exception):
    """DynamoDB refused the change as invalid (a cancellation reason ``ValidationError``): a retry
    would be refused again, so the stream handler records the record as a failure."""


@dataclass(frozen=True)
class Membership:
    """One change of a mirror row: ``member`` joins (``present``) or leaves the item ``group``.

    ``at``: the record's position (``position``); None for the backfill's seed, older than any."""

    group: str  # the item's name (``Key.name_of``)
    member: str
    present: bool
    at: str | None


class Applied(enum.Enum):
    COUNTED = "counted"  # the row flipped and the item's count moved by +-1
    UNMARKED = "unmarked"  # the row flipped on an item without the marker: recount the item
    REFRESHED = "refreshed"  # the row was already in that state: only its position moved
    STALE = "stale"  # the row has seen this record or a later one: nothing to do
    ITEM_MISSING = "item missing"  # the item does not exist: nothing written
    CONTENDED = "contended"  # kept racing for MAX_ATTEMPTS tries


@dataclass
class _Seen:
    """What the last attempt learned: the row (None: absent), and whether the item is marked."""

    row: dict[str, Any] | None = None
    row_known: bool = False
    marked: bool = True  # the steady state: tried first


class MirrorWriter:
    """Applies membership changes of one mirrored aggregate (``apply``)."""

    def __init__(self, dynamodb: DynamoDBClient, aggregate: Aggregate, *, mirror_table: str, target_table: str,
                 target_key: Key, backoff: Backoff = Backoff()) -> None:  # noqa: B008 - immutable
        if aggregate.mirror is None:
            raise ValueError(f"aggregate {aggregate.name} is not kept by a mirror")
        self.dynamodb = dynamodb
        self.aggregate = aggregate
        self.mirror: Mirror = aggregate.mirror
        self.mirror_table = mirror_table
        self.target_table = target_table
        self.target_key = target_key
        self.backoff = backoff
        self._marked: dict[str, bool] = {}  # item -> marked, as last learned (a writer lives one batch)

    def row_key(self, group: str, member: str) -> dict[str, Any]:
        return {self.mirror.key.partition: {"S": group}, str(self.mirror.key.sort): {"S": member}}

    def present_count(self, group: str) -> int:
        """The item's present rows, by one consistent Query of its partition (tombstones read too)."""
        kwargs: dict[str, Any] = {
            "TableName": self.mirror_table, "KeyConditionExpression": "#g = :g", "FilterExpression": "#p = :t",
            "ExpressionAttributeNames": {"#g": self.mirror.key.partition, "#p": PRESENT},
            "ExpressionAttributeValues": {":g": {"S": group}, ":t": {"BOOL": True}},
            "ConsistentRead": True, "Select": "COUNT",
        }
        total = 0
        while True:
            page = self.dynamodb.query(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def mark(self, store: ItemWrites, name: str) -> int | None:
        """Hand the count of item ``name`` over to the mirror: its count set to its present rows,
        its version bumped and the marker set, conditioned on the version read *before* the rows
        were counted (and the marker's absence): a flip in between bumped the version, so the
        write fails and the rows are counted again. 1 when this call marked it, 0 when it is gone
        or already marked, None when it kept changing for MAX_MARK_ATTEMPTS tries."""
        aggregate, marker = self.aggregate, self.mirror.marker
        item = store.get(name)
        for attempt in range(1, MAX_MARK_ATTEMPTS + 1):
            if item is None or marker in item:
                return 0
            present = self.present_count(name)
            sent = store.conditional_set(
                name,
                {aggregate.name: present, aggregate.version_field: next_version(item, aggregate), marker: True},
                {aggregate.version_field: item.get(aggregate.version_field, ABSENT), marker: ABSENT},
            )
            if sent.written:
                return 1
            item = sent.current
            self.backoff.wait(attempt)
        return None

    def apply(self, change: Membership) -> Applied:
        """Bring the member's row to ``change`` if it is older, moving the count when it flips."""
        seen = _Seen(marked=self._marked.get(change.group, True))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if seen.row_known:
                verdict = self._decide(change, seen.row)
                if verdict is not None:
                    if verdict is Applied.REFRESHED and not self._refresh(change):
                        seen.row_known = False  # it changed since: look again
                        continue
                    return verdict
            result = self._flip(change, seen)
            self._marked[change.group] = seen.marked
            if result is not None:
                return result
            if attempt < MAX_ATTEMPTS and not seen.row_known:
                self.backoff.wait(attempt)  # a conflicting transaction, not a state we can act on
        return Applied.CONTENDED

    def _decide(self, change: Membership, row: Mapping[str, Any] | None) -> Applied | None:
        """With the row as it is: STALE, REFRESHED (no flip needed) or None (flip it)."""
        if row is None:
            return None if change.present else Applied.REFRESHED  # a leave of an absent row: a tombstone
        at = row.get(SEQUENCE, {}).get("S")
        if change.at is None or (at is not None and at >= change.at):
            return Applied.STALE  # a seed never overrides a row; a record never an as-new row
        if row.get(PRESENT, {}).get("BOOL") is change.present:
            return Applied.REFRESHED
        return None

    def _flip(self, change: Membership, seen: _Seen) -> Applied | None:
        """One transaction flipping the row and updating the item (marked as ``seen`` says).
        None when it was cancelled: ``seen`` then says what was found."""
        delta = 1 if change.present else -1
        names = {"#k": self.target_key.partition, "#v": self.aggregate.version_field, "#m": self.mirror.marker}
        values: dict[str, Any] = {":one": {"N": "1"}}
        if seen.marked:
            names["#c"] = self.aggregate.name
            values[":d"] = {"N": str(delta)}
            update, condition = "ADD #c :d, #v :one", "attribute_exists(#k) AND attribute_exists(#m)"
        else:
            update, condition = "ADD #v :one", "attribute_exists(#k) AND attribute_not_exists(#m)"
        try:
            self.dynamodb.transact_write_items(TransactItems=[
                {"Put": self._row_put(change, flip=True)},
                {"Update": {"TableName": self.target_table, "Key": self.target_key.typed(change.group),
                            "UpdateExpression": update, "ConditionExpression": condition,
                            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            ])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return self._learn(error.response.get("CancellationReasons", []), seen)
        return Applied.COUNTED if seen.marked else Applied.UNMARKED

    def _learn(self, reasons: Sequence[Mapping[str, Any]], seen: _Seen) -> Applied | None:
        """Read the cancellation reasons: the row's or the item's state, as returned (ALL_OLD)."""
        invalid = [r for r in reasons if r.get("Code") == "ValidationError"]
        if invalid:
            raise MirrorRefused(f"the mirror's transaction is invalid: {invalid[0].get('Message', '')}")
        row_reason, item_reason = (list(reasons) + [{}, {}])[:2]
        seen.row_known = row_reason.get("Code") == "ConditionalCheckFailed"
        if seen.row_known:
            seen.row = row_reason.get("Item")
        if item_reason.get("Code") == "ConditionalCheckFailed":
            item = item_reason.get("Item")
            if item is None:
                return Applied.ITEM_MISSING
            seen.marked = self.mirror.marker in item
        return None

    def _row_put(self, change: Membership, *, flip: bool) -> PutTypeDef:
        """The row's put, conditioned on the row being older than the change and, for a flip, in
        the other state (a seed: only on an absent row); otherwise in this state or absent."""
        item = {**self.row_key(change.group, change.member), PRESENT: {"BOOL": change.present}}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if change.at is None:
            names["#g"] = self.mirror.key.partition
            condition = "attribute_not_exists(#g)"
        else:
            item[SEQUENCE] = {"S": change.at}
            names.update({"#p": PRESENT, "#s": SEQUENCE})
            values[":at"] = {"S": change.at}
            older = "(attribute_not_exists(#s) OR #s < :at)"
            state_was = (not change.present) if flip else change.present
            values[":was"] = {"BOOL": state_was}
            condition = f"#p = :was AND {older}"
            if not state_was:  # an absent row counts as not present
                names["#g"] = self.mirror.key.partition
                condition = f"attribute_not_exists(#g) OR ({condition})"
        put: PutTypeDef = {"TableName": self.mirror_table, "Item": item, "ConditionExpression": condition,
                           "ExpressionAttributeNames": names, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        if values:
            put["ExpressionAttributeValues"] = values
        return put

    def _refresh(self, change: Membership) -> bool:
        """Move an unflipped row's position on (a leave of an absent row leaves a tombstone, so a
        seed cannot bring the member back). False when the row changed since it was seen."""
        put = self._row_put(change, flip=False)
        put.pop("ReturnValuesOnConditionCheckFailure")
        try:
            self.dynamodb.put_item(**put)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
