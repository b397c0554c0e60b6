"""Stream path: Lambda-shaped batches through the real handlers, against the endpoint.

Each step plays an application burst against the tables (unmeasured, uncounted client): old
writers put old-shape events (new ones, and rewrites of existing ones) and people join and
leave. The records those writes produce are built from the writes themselves (keys, images,
increasing sequence numbers) and handed, as Lambda would, to the events handler and to the
participants handler. Only the handler calls are timed and counted.

``hot_events`` decides how records cluster: a handful of events (records cluster, one recount
per touched event per batch serves many records) or the whole table (records spread).
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from backfill.live.stream_runner import lambda_event, lambda_record
from backfill.table.request_counter import RequestCounter
from bench.harness import Stopwatch, bench_session
from chalicelib.aws import client
from chalicelib.config import Settings
from chalicelib.items import to_typed
from chalicelib.schema import active_schema
from chalicelib.streams import process_source_batch, process_target_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.observability import logger as handler_logger
from chalicelib.streams.records import parse_record
from chalicelib.streams.sources import touched as touched_by
from localdev.legacy_data import LegacyDataSet, legacy_event

EVENTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/bench"
PARTICIPANTS_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/participants/stream/bench"


@dataclass(frozen=True)
class StreamMix:
    batches: int = 100
    records_per_batch: int = 100
    event_share: float = 0.2  # the rest are participant joins and leaves
    leave_share: float = 0.25  # of participant records
    hot_events: int | None = 5  # None: spread over every event


class Workload:
    """Applies an application burst to the tables and returns the stream records it produced."""

    def __init__(self, dynamodb: Any, settings: Settings, data: LegacyDataSet, mix: StreamMix, seed: int = 11):
        self.dynamodb = dynamodb
        self.settings = settings
        self.mix = mix
        self.rng = random.Random(seed)
        events = [e["eventId"] for e in data.events if e["eventId"] not in set(data.malformed_ids)]
        self.targets = self.rng.sample(events, mix.hot_events) if mix.hot_events else events
        self.members: dict[str, list[str]] = defaultdict(list)
        for row in data.participants:
            self.members[row["eventId"]].append(row["participantId"])
        self.next_event = len(data.events)
        self.next_participant = itertools.count(len(data.participants))
        self.sequence = itertools.count(10**20)

    def _record(self, name: str, keys: dict[str, Any], new: Any, old: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Keys": keys,
            "SequenceNumber": str(next(self.sequence)),
            "ApproximateCreationDateTime": time.time(),
        }
        if new is not None:
            body["NewImage"] = new
        if old is not None:
            body["OldImage"] = old
        return {"eventID": body["SequenceNumber"], "eventName": name, "dynamodb": body}

    def _old_writer_put(self) -> dict[str, Any]:
        """An old-shape PutItem: a brand-new event, or a rewrite of one of the target events."""
        if self.rng.random() < 0.5:
            item = legacy_event(self.rng, self.next_event)
            self.next_event += 1
        else:
            item = legacy_event(self.rng, 0)
            item["eventId"] = self.rng.choice(self.targets)
        typed = to_typed(item)
        old = self.dynamodb.put_item(
            TableName=self.settings.table("events"), Item=typed, ReturnValues="ALL_OLD"
        ).get("Attributes")
        keys = {"eventId": typed["eventId"]}
        return self._record("MODIFY" if old else "INSERT", keys, typed, old)

    def _participant_change(self) -> dict[str, Any]:
        event_id = self.rng.choice(self.targets)
        table = self.settings.table("participants")
        if self.members[event_id] and self.rng.random() < self.mix.leave_share:
            gone = self.members[event_id].pop(self.rng.randrange(len(self.members[event_id])))
            keys = {"eventId": {"S": event_id}, "participantId": {"S": gone}}
            old = self.dynamodb.delete_item(TableName=table, Key=keys, ReturnValues="ALL_OLD").get("Attributes")
            return self._record("REMOVE", keys, None, old)
        participant = f"p-{next(self.next_participant):07d}"
        row = to_typed({"eventId": event_id, "participantId": participant, "displayName": "Late guest",
                        "joinedAt": Decimal(int(time.time() * 1000))})
        self.dynamodb.put_item(TableName=table, Item=row)
        self.members[event_id].append(participant)
        keys = {"eventId": row["eventId"], "participantId": row["participantId"]}
        return self._record("INSERT", keys, row, None)

    def burst(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(events-stream Lambda records, participants-stream Lambda records) of one step."""
        region = self.settings.region
        events, participants = [], []
        for _ in range(self.mix.records_per_batch):
            if self.rng.random() < self.mix.event_share:
                events.append(lambda_record(self._old_writer_put(), source_arn=EVENTS_ARN, region=region))
            else:
                participants.append(
                    lambda_record(self._participant_change(), source_arn=PARTICIPANTS_ARN, region=region)
                )
        return events, participants


def _quiet_handler_logs() -> None:
    """Keep the handlers' log formatting (part of their cost) but send the lines nowhere."""
    # Only powertools' own handler: others on that logger (pytest's capture) are not ours.
    handler = handler_logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def run_stream_path(
    session: Any, watch: Stopwatch, settings: Settings, data: LegacyDataSet, mix: StreamMix
) -> tuple[int, dict[str, Any]]:
    _quiet_handler_logs()
    with watch.paused():
        app_client = client(bench_session(settings.region), "dynamodb", settings)
        workload = Workload(app_client, settings, data, mix)
    events_deps = Dependencies(settings, client(session, "dynamodb", settings))
    participants_deps = Dependencies(settings, client(session, "dynamodb", settings))
    participant_requests = RequestCounter().attach(participants_deps.dynamodb)
    stats: dict[str, int] = defaultdict(int)
    records = touched = failed = event_count = participant_count = 0
    for _ in range(mix.batches):
        with watch.paused():
            event_records, participant_records = workload.burst()
            touched += len({t for r in participant_records for t in touched_by(parse_record(r), active_schema().aggregates)})
        for process, deps, batch in (
            (process_target_batch, events_deps, event_records),
            (process_source_batch, participants_deps, participant_records),
        ):
            if batch:
                result = process(lambda_event(batch), deps)
                failed += len(result.failed_sequence_numbers)
                for name, value in result.stats.items():
                    stats[name] += value
        event_count += len(event_records)
        participant_count += len(participant_records)
        records += len(event_records) + len(participant_records)
    participant_calls = participant_requests.calls()
    participant_requests.detach()
    return records, {
        "outcomes": dict(stats),
        "failed_records": failed,
        "event_records": event_count,
        "participant_records": participant_count,
        "touched_event_batches": touched,
        "participant_handler_calls": participant_calls,
        "hot_events": mix.hot_events or len(workload.targets),
    }
