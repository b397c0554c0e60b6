"""The expand phase of the rename (and of the type change) under random old and new writers, over HTTP: boto3 writes ->
real stream records -> the local runner (Lambda's JSON) -> the handlers with ``EXPAND`` active.

Old writers write ``description`` (UpdateItem, and whole-item puts that drop ``summary``), new
writers write ``summary`` (UpdateItem); the streams are drained at random points. A model holds
the one logical value the two names stand for (the last value written under either name; a write
of the value a name already holds is no write: DynamoDB Streams has no record of it) and the
attributes only the application writes: after every drain both names hold the model's value, and
nothing outside the plan was touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backfill.live.stream_runner import StreamRunner
from backfill.table.target import Target
from chalicelib.item_store import ItemStore
from chalicelib.items import typed_value
from chalicelib.schema import Schema, use_schema, validate_item
from chalicelib.tables import create_tables
from examples.rename.hot_rows import PAIRS, plain
from examples.rename.schema import EXPAND
from examples.rename.several import THREE_RENAMES, TWO_RENAMES
from examples.rename.typechange import TAGS_EXPAND, tag_set
from tests.support.stateful import over_http

EVENT_IDS = ("e0", "e1")
CREATED = 1_767_225_000_000


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Pair:
    """One rename under test: its declaration, the values each side's writers write, and how a
    value of each side reads as the one logical value (identity for a plain rename)."""

    schema: Schema
    old: str
    new: str
    old_values: tuple[Any, ...]
    new_values: tuple[Any, ...]
    logical_of_old: Callable[[Any], Any] = _same

    def logical(self, name: str, value: Any) -> Any:
        return self.logical_of_old(value) if name == self.old and value is not None else value


RENAME = Pair(EXPAND, "description", "summary", ("Pub quiz", "Quiz night", "Retro"), ("Pub quiz", "Quiz night", "Retro"))
TYPE_CHANGE = Pair(TAGS_EXPAND, "tags", "tagSet", ("beer, quiz", "quiz,beer", "wine"),
                   (frozenset({"beer", "quiz"}), frozenset({"wine"}), frozenset({"a", "b"})), tag_set)


@dataclass
class ModelEvent:
    value: Any  # the logical value both names must hold once drained (None: neither is set)
    stored: dict[str, Any] = field(default_factory=dict)  # each name as the table holds it now
    note: str | None = None  # an attribute only the old application writes
    organizer: str | None = None  # an attribute only the new application writes

    def wrote(self, pair: Pair, name: str, value: Any) -> None:
        """An UpdateItem of one name: a write of the value it already holds changes nothing
        (DynamoDB Streams has no record of it), so it cannot win; any other one is the newest value."""
        if self.stored.get(name) != value:
            self.stored[name] = value
            self.value = pair.logical(name, value)


class ExpandWriters(RuleBasedStateMachine):
    pair: Pair

    def __init__(self, endpoint: Any, live_settings: Any) -> None:
        super().__init__()
        endpoint.reset()
        self.settings = live_settings
        target = Target(settings=live_settings)
        self.dynamodb = target.dynamodb
        create_tables(self.dynamodb, live_settings)
        self.runner = StreamRunner(target)
        self.events = ItemStore(self.dynamodb, live_settings.table("events"))
        self.model: dict[str, ModelEvent] = {}

    @initialize(data=st.data())
    def new_app_creates(self, data: st.DataObject) -> None:
        # The new app creates e0 whole, both names in step, version 3.
        old = data.draw(st.sampled_from(self.pair.old_values))
        new = self.pair.logical(self.pair.old, old)
        self.dynamodb.put_item(TableName=self.settings.table("events"), Item={
            "eventId": {"S": "e0"}, "name": {"S": "Quiz"}, "status": {"S": "setup"}, "visibility": {"S": "private"},
            "isTemplate": {"BOOL": False}, "createdAt": {"N": str(CREATED)}, "lastModified": {"N": str(CREATED)},
            "participantCount": {"N": "0"}, self.pair.old: typed_value(old), self.pair.new: typed_value(set(new)
            if isinstance(new, frozenset) else new), "schemaVersion": {"N": "3"}})
        self.model["e0"] = ModelEvent(new, {self.pair.old: old, self.pair.new: new})

    @rule(event_id=st.sampled_from(EVENT_IDS), data=st.data(), note=st.sampled_from(["a", "b"]))
    def old_app_puts(self, event_id: str, data: st.DataObject, note: str) -> None:
        # The old app saves its whole shape: the old name (or none: a v1 writer), never the new.
        value = data.draw(st.sampled_from([*self.pair.old_values, None]))
        item = {"eventId": {"S": event_id}, "name": {"S": "Quiz"}, "status": {"S": "waiting"},
                "createdAt": {"N": str(CREATED)}, "legacyNote": {"S": note}}
        if value is not None:
            item[self.pair.old] = typed_value(value)
        self.dynamodb.put_item(TableName=self.settings.table("events"), Item=item)
        event = self.model.setdefault(event_id, ModelEvent(None))
        event.note, event.organizer = note, None  # a put replaces what only the new app wrote
        if value is not None and (value != event.stored.get(self.pair.old) or event.stored.get(self.pair.new) is not None):
            event.value = self.pair.logical(self.pair.old, value)  # the put wrote it (without: carried)
        event.stored = {self.pair.old: value, self.pair.new: None}

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def old_app_updates_the_old_name(self, data: st.DataObject) -> None:
        event_id = data.draw(st.sampled_from(sorted(self.model)))
        value = data.draw(st.sampled_from(self.pair.old_values))
        self.dynamodb.update_item(TableName=self.settings.table("events"), Key={"eventId": {"S": event_id}},
                                  UpdateExpression="SET #a = :v", ExpressionAttributeNames={"#a": self.pair.old},
                                  ExpressionAttributeValues={":v": typed_value(value)})
        self.model[event_id].wrote(self.pair, self.pair.old, value)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), organizer=st.sampled_from(["org-1", "org-2"]))
    def new_app_updates_the_new_name(self, data: st.DataObject, organizer: str) -> None:
        event_id = data.draw(st.sampled_from(sorted(self.model)))
        value = data.draw(st.sampled_from(self.pair.new_values))
        typed = typed_value(set(value) if isinstance(value, frozenset) else value)
        self.dynamodb.update_item(TableName=self.settings.table("events"), Key={"eventId": {"S": event_id}},
                                  UpdateExpression="SET #a = :v, organizerId = :o",
                                  ExpressionAttributeNames={"#a": self.pair.new},
                                  ExpressionAttributeValues={":v": typed, ":o": {"S": organizer}})
        self.model[event_id].wrote(self.pair, self.pair.new, value)
        self.model[event_id].organizer = organizer

    @rule()
    def drain(self) -> None:
        stats = self.runner.drain()
        assert stats.given_up == [] and sum(stats.outcomes.get(t, {}).get("failed", 0) for t in stats.outcomes) == 0
        old, new = self.pair.old, self.pair.new
        for event_id, expected in self.model.items():
            stored = self.events.get(event_id)
            assert stored is not None and validate_item(stored) == [], (event_id, stored)
            seen = (self.pair.logical(old, stored.get(old)), _frozen(stored.get(new)), stored.get("legacyNote"),
                    stored.get("organizerId"))
            assert seen == (expected.value, expected.value, expected.note, expected.organizer), (event_id, seen, expected)
            expected.stored = {old: stored.get(old), new: _frozen(stored.get(new))}
        failures = self.dynamodb.scan(TableName=self.settings.failures_table)["Items"]
        assert failures == [], failures

    def teardown(self) -> None:
        if self.model:
            self.drain()


def _frozen(value: Any) -> Any:
    return frozenset(value) if isinstance(value, set) else value


@pytest.mark.parametrize("pair", [RENAME, TYPE_CHANGE], ids=["description->summary", "tags->tagSet"])
def test_random_old_and_new_writers_during_expand_lose_nothing(endpoint, live_settings, pair):
    machine = type("Writers", (ExpandWriters,), {"pair": pair})
    with use_schema(pair.schema):
        run_state_machine_as_test(
            lambda: machine(endpoint, live_settings),
            settings=over_http(examples=10, steps=10),
        )


# --- several renames in one declaration -----------------------------------------------------------

@dataclass
class ModelRow:
    values: dict[str, Any]  # pair (old name) -> the last write's value as the new name holds it (None: neither set)
    note: str | None = None
    organizer: str | None = None


class SeveralRenamesWriters(RuleBasedStateMachine):
    """Old and new writers of every pair of a declaration with two or three renames; the streams
    drained at random points, in batches of a random size (1: every record alone, so a record often
    finds the item moved on by later ones). Every value written is new (a counter), so every write
    has its record and the model is the order of the writes (docs/how-to/rename.md: a write that sets
    a pair back to values an earlier record saw is not told apart from that record)."""

    schema: Schema

    def __init__(self, endpoint: Any, live_settings: Any) -> None:
        super().__init__()
        endpoint.reset()
        self.settings = live_settings
        target = Target(settings=live_settings)
        self.dynamodb = target.dynamodb
        create_tables(self.dynamodb, live_settings)
        self.runner = StreamRunner(target)
        self.events = ItemStore(self.dynamodb, live_settings.table("events"))
        self.pairs = {r.old: PAIRS[r.old] for r in self.schema.renames}
        self.model: dict[str, ModelRow] = {}
        self.fresh = 0

    def _number(self) -> int:
        self.fresh += 1
        return self.fresh

    @rule(event_id=st.sampled_from(EVENT_IDS), data=st.data())
    def old_app_puts(self, event_id: str, data: st.DataObject) -> None:
        # The old app saves its whole v2 shape: each old name (or not: a v1 writer), never a new one.
        n, kept = self._number(), data.draw(st.sets(st.sampled_from(sorted(self.pairs))))
        item = {"eventId": {"S": event_id}, "name": {"S": "Quiz"}, "status": {"S": "waiting"},
                "createdAt": {"N": str(CREATED)}, "legacyNote": {"S": f"note{n}"}}
        for old in kept:
            item[old] = typed_value(self.pairs[old].old_value(n))
        self.dynamodb.put_item(TableName=self.settings.table("events"), Item=item)
        # A put without a carried old name keeps the pair's value (the declaration carries it forward).
        before = self.model.get(event_id, ModelRow({old: None for old in self.pairs})).values
        self.model[event_id] = ModelRow({old: pair.logical(pair.old_value(n)) if old in kept
                                         else before[old] if old in self.schema.carried else None
                                         for old, pair in self.pairs.items()}, note=f"note{n}")

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def old_app_updates_an_old_name(self, data: st.DataObject) -> None:
        event_id, old = data.draw(st.sampled_from(sorted(self.model))), data.draw(st.sampled_from(sorted(self.pairs)))
        pair, n = self.pairs[old], self._number()
        self.dynamodb.update_item(TableName=self.settings.table("events"), Key={"eventId": {"S": event_id}},
                                  UpdateExpression="SET #a = :v", ExpressionAttributeNames={"#a": pair.old},
                                  ExpressionAttributeValues={":v": typed_value(pair.old_value(n))})
        self.model[event_id].values[old] = pair.logical(pair.old_value(n))

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def new_app_updates_a_new_name(self, data: st.DataObject) -> None:
        event_id, old = data.draw(st.sampled_from(sorted(self.model))), data.draw(st.sampled_from(sorted(self.pairs)))
        pair, n = self.pairs[old], self._number()
        value = pair.new_value(n)
        self.dynamodb.update_item(TableName=self.settings.table("events"), Key={"eventId": {"S": event_id}},
                                  UpdateExpression="SET #a = :v, organizerId = :o",
                                  ExpressionAttributeNames={"#a": pair.new},
                                  ExpressionAttributeValues={":v": typed_value(set(value) if isinstance(value, frozenset)
                                                                               else value), ":o": {"S": f"org{n}"}})
        self.model[event_id].values[old], self.model[event_id].organizer = value, f"org{n}"

    @rule(batch_size=st.sampled_from([1, 2, 100]))
    def drain(self, batch_size: int = 100) -> None:
        self.runner.batch_size = batch_size
        stats = self.runner.drain()
        assert stats.given_up == [] and sum(stats.outcomes.get(t, {}).get("failed", 0) for t in stats.outcomes) == 0
        for event_id, expected in self.model.items():
            stored = self.events.get(event_id)
            assert stored is not None and validate_item(stored) == [], (event_id, stored)
            seen = {old: (plain(pair.logical(stored[old])) if old in stored else None, plain(stored.get(pair.new)))
                    for old, pair in self.pairs.items()}
            assert seen == {old: (value, value) for old, value in expected.values.items()}, (event_id, seen, expected)
            assert (stored.get("legacyNote"), stored.get("organizerId")) == (expected.note, expected.organizer)
        failures = self.dynamodb.scan(TableName=self.settings.failures_table)["Items"]
        assert failures == [], failures

    def teardown(self) -> None:
        if self.model:
            self.drain(batch_size=100)


@pytest.mark.parametrize("schema", [TWO_RENAMES, THREE_RENAMES], ids=["two renames", "three renames"])
def test_old_and_new_writers_of_every_pair_during_expand_lose_nothing(endpoint, live_settings, schema):
    machine = type("SeveralWriters", (SeveralRenamesWriters,), {"schema": schema})
    with use_schema(schema):
        run_state_machine_as_test(lambda: machine(endpoint, live_settings), settings=over_http(examples=int(os.environ.get("DYNAMO_EVOLVE_RENAME_EXAMPLES", "6")), steps=12))
