"""The expand phase of the rename under random old and new writers, over HTTP: boto3 writes ->
real stream records -> the local runner (Lambda's JSON) -> the handlers with ``EXPAND`` active.

Old writers write ``description`` (UpdateItem, and whole-item puts that drop ``summary``), new
writers write ``summary`` (UpdateItem); the streams are drained at random points. A model holds
the one logical value the two names stand for (the last value written under either name; a write
of the value a name already holds is no write: DynamoDB Streams has no record of it) and the
attributes only the application writes: after every drain both names hold the model's value, and
nothing outside the plan was touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, settings
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
from chalicelib.events_store import EventStore
from chalicelib.schema import use_schema, validate_event
from chalicelib.tables import create_tables
from examples.rename.schema import EXPAND

EVENT_IDS = ("e0", "e1")
TEXTS = ("Pub quiz", "Quiz night", "Retro")
CREATED = 1_767_225_000_000


@dataclass
class ModelEvent:
    text: str | None  # the value both names must hold once drained (None: neither is set)
    description: str | None = None  # what the table holds now, before the live path catches up
    summary: str | None = None
    note: str | None = None  # an attribute only the old application writes
    organizer: str | None = None  # an attribute only the new application writes

    def wrote(self, name: str, value: str) -> None:
        """An UpdateItem of one name: a write of the value it already holds changes nothing
        (DynamoDB Streams has no record of it), so it cannot win; any other one is the newest value."""
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.text = value

    def drained(self) -> None:
        self.description = self.summary = self.text


class ExpandWriters(RuleBasedStateMachine):
    def __init__(self, endpoint: Any, live_settings: Any) -> None:
        super().__init__()
        endpoint.reset()
        self.settings = live_settings
        target = Target(settings=live_settings)
        self.dynamodb = target.dynamodb
        create_tables(self.dynamodb, live_settings)
        self.runner = StreamRunner(target)
        self.events = EventStore(self.dynamodb, live_settings.events_table)
        self.model: dict[str, ModelEvent] = {}

    def _update(self, event_id: str, attribute: str, value: str) -> None:
        self.dynamodb.update_item(TableName=self.settings.events_table, Key={"eventId": {"S": event_id}},
                                  UpdateExpression="SET #a = :v", ExpressionAttributeNames={"#a": attribute},
                                  ExpressionAttributeValues={":v": {"S": value}})

    @initialize(text=st.sampled_from(TEXTS))
    def new_app_creates(self, text: str) -> None:
        # The v3 app creates e0 whole, both names in step, version 3.
        self.dynamodb.put_item(TableName=self.settings.events_table, Item={
            "eventId": {"S": "e0"}, "name": {"S": "Quiz"}, "status": {"S": "setup"}, "visibility": {"S": "private"},
            "isTemplate": {"BOOL": False}, "createdAt": {"N": str(CREATED)}, "lastModified": {"N": str(CREATED)},
            "participantCount": {"N": "0"}, "description": {"S": text}, "summary": {"S": text},
            "schemaVersion": {"N": "3"}})
        self.model["e0"] = ModelEvent(text, text, text)

    @rule(event_id=st.sampled_from(EVENT_IDS), text=st.sampled_from([*TEXTS, None]), note=st.sampled_from(["a", "b"]))
    def old_app_puts(self, event_id: str, text: str | None, note: str) -> None:
        # The old app saves its whole shape: description (or none: a v1 writer), never summary.
        item = {"eventId": {"S": event_id}, "name": {"S": "Quiz"}, "status": {"S": "waiting"},
                "createdAt": {"N": str(CREATED)}, "legacyNote": {"S": note}}
        if text is not None:
            item["description"] = {"S": text}
        self.dynamodb.put_item(TableName=self.settings.events_table, Item=item)
        event = self.model.setdefault(event_id, ModelEvent(None))
        event.note, event.organizer = note, None  # a put replaces what only the new app wrote
        if text is not None and (text != event.description or event.summary is not None):
            event.text = text  # the put wrote it (without it, the value is carried from the old image)
        event.description, event.summary = text, None

    @precondition(lambda self: self.model)
    @rule(data=st.data(), text=st.sampled_from(TEXTS))
    def old_app_updates_description(self, data: st.DataObject, text: str) -> None:
        event_id = data.draw(st.sampled_from(sorted(self.model)))
        self._update(event_id, "description", text)
        self.model[event_id].wrote("description", text)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), text=st.sampled_from(TEXTS), organizer=st.sampled_from(["org-1", "org-2"]))
    def new_app_updates_summary(self, data: st.DataObject, text: str, organizer: str) -> None:
        event_id = data.draw(st.sampled_from(sorted(self.model)))
        self.dynamodb.update_item(TableName=self.settings.events_table, Key={"eventId": {"S": event_id}},
                                  UpdateExpression="SET summary = :s, organizerId = :o",
                                  ExpressionAttributeValues={":s": {"S": text}, ":o": {"S": organizer}})
        self.model[event_id].wrote("summary", text)
        self.model[event_id].organizer = organizer

    @rule()
    def drain(self) -> None:
        stats = self.runner.drain()
        assert stats.given_up == [] and sum(stats.outcomes.get(t, {}).get("failed", 0) for t in stats.outcomes) == 0
        for event_id, expected in self.model.items():
            stored = self.events.get(event_id)
            assert stored is not None and validate_event(stored) == [], (event_id, stored)
            seen = (stored.get("description"), stored.get("summary"), stored.get("legacyNote"), stored.get("organizerId"))
            assert seen == (expected.text, expected.text, expected.note, expected.organizer), (event_id, seen, expected)
            expected.drained()
        failures = self.dynamodb.scan(TableName=self.settings.failures_table)["Items"]
        assert failures == [], failures

    def teardown(self) -> None:
        if self.model:
            self.drain()


def test_random_old_and_new_writers_during_expand_lose_nothing(endpoint, live_settings):
    with use_schema(EXPAND):
        run_state_machine_as_test(
            lambda: ExpandWriters(endpoint, live_settings),
            # Bounded like tests/integration/test_live_legacy_writers.py: no shrinking over HTTP.
            settings=settings(max_examples=10, stateful_step_count=10, deadline=None,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate],
                              suppress_health_check=list(HealthCheck)),
        )
