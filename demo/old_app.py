"""The "old app": keeps writing the legacy (v1) way while the migration runs.

It creates old-shape events, moves events on with legacy statuses (waiting -> active ->
completed, whatever shape the row is in now), and has people join and leave. It remembers what
it touched, so checks can tell the app's own changes from anything the migration did.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.config import Settings
from chalicelib.items import to_python, to_typed
from localdev.legacy_data import legacy_event

# Legacy status the old app sets next, by the status it reads (legacy or upgraded shape).
NEXT_STATUS = {"waiting": "active", "setup": "active", "draft": "active", "active": "completed", "live": "completed"}


@dataclass
class OldAppLog:
    operations: Counter[str] = field(default_factory=Counter)
    created: set[str] = field(default_factory=set)
    status_changed: set[str] = field(default_factory=set)
    participants_changed: set[str] = field(default_factory=set)  # events whose people changed
    last_status: dict[str, str] = field(default_factory=dict)  # eventId -> last status it wrote

    def app_owned(self) -> dict[str, set[str]]:
        """eventId -> attributes the app itself wrote since it started."""
        owned = {event_id: {"status"} for event_id in self.status_changed}
        for event_id in self.created:
            owned[event_id] = {"*"}
        return owned

    @property
    def events_touched(self) -> set[str]:
        """Events whose row any live write changed (directly, or via their participant count)."""
        return self.created | self.status_changed | self.participants_changed

    @property
    def total(self) -> int:
        return sum(self.operations.values())


class OldApp:
    def __init__(
        self, dynamodb: Any, settings: Settings, event_ids: Iterable[str], *, seed: int = 11, prefix: str = "live"
    ) -> None:
        self.dynamodb = dynamodb
        self.settings = settings
        self.event_ids = sorted(event_ids)
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.log = OldAppLog()
        self._next_id = 0

    # --- one write of each kind -------------------------------------------------------------
    def create_event(self) -> str:
        event = legacy_event(self.rng, self._next_id)
        event["eventId"] = f"{self.prefix}-{self._next_id:05d}"
        self._next_id += 1
        self.dynamodb.put_item(
            TableName=self.settings.table("events"),
            Item=to_typed(event),
            ConditionExpression="attribute_not_exists(eventId)",
        )
        self.event_ids.append(event["eventId"])
        self.log.created.add(event["eventId"])
        return event["eventId"]

    def change_status(self, event_id: str) -> bool:
        row = self.dynamodb.get_item(
            TableName=self.settings.table("events"), Key={"eventId": {"S": event_id}}, ConsistentRead=True
        ).get("Item")
        if row is None:
            return False
        target = NEXT_STATUS.get(to_python(row).get("status"))
        if target is None:
            return False  # completed (or unknown): the old app leaves it alone
        try:
            self.dynamodb.update_item(
                TableName=self.settings.table("events"),
                Key={"eventId": {"S": event_id}},
                UpdateExpression="SET #s = :s",
                ConditionExpression="attribute_exists(eventId)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": target}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        self.log.status_changed.add(event_id)
        self.log.last_status[event_id] = target
        return True

    def join(self, event_id: str) -> None:
        person = f"{self.prefix}-p-{self.rng.randrange(10**9):09d}"
        self.dynamodb.put_item(
            TableName=self.settings.table("participants"),
            Item=to_typed({"eventId": event_id, "participantId": person, "displayName": "Walk-in",
                           "joinedAt": int(time.time() * 1000)}),
        )
        self.log.participants_changed.add(event_id)

    def leave(self, event_id: str) -> bool:
        rows = self.dynamodb.query(
            TableName=self.settings.table("participants"),
            KeyConditionExpression="eventId = :e",
            ExpressionAttributeValues={":e": {"S": event_id}},
            ProjectionExpression="participantId",
            Limit=5,
        )["Items"]
        if not rows:
            return False
        person = self.rng.choice(rows)["participantId"]
        self.dynamodb.delete_item(
            TableName=self.settings.table("participants"),
            Key={"eventId": {"S": event_id}, "participantId": person},
        )
        self.log.participants_changed.add(event_id)
        return True

    # --- a stream of writes ---------------------------------------------------------------------
    def step(self) -> str:
        """One random write: mostly joins and leaves, some status changes, a few new events."""
        roll = self.rng.random()
        event_id = self.rng.choice(self.event_ids) if self.event_ids else None
        if roll < 0.1 or event_id is None:
            self.create_event()
            kind = "create"
        elif roll < 0.3:
            kind = "status" if self.change_status(event_id) else "status-skipped"
        elif roll < 0.75:
            self.join(event_id)
            kind = "join"
        else:
            kind = "leave" if self.leave(event_id) else "leave-skipped"
        self.log.operations[kind] += 1
        return kind

    def run(self, operations: int) -> OldAppLog:
        for _ in range(operations):
            self.step()
        return self.log

    def run_until(self, stop: threading.Event, *, max_operations: int, pause_s: float = 0.0) -> OldAppLog:
        """Write until ``stop`` is set or ``max_operations`` are done (for a background thread)."""
        for _ in range(max_operations):
            if stop.is_set():
                break
            self.step()
            if pause_s:
                stop.wait(pause_s)
        return self.log
