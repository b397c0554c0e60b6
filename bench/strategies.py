"""``python -m bench.strategies``: the live path's cost per record, recount vs membership mirror,
as an event grows (10, 1,000, 5,000, 10,000, 20,000, 100,000 participants by default).

For each size and each strategy, ``--batches`` batches of ``--records`` joins of one event go
through the real participants handler (Lambda-format records), with the events declaration
(``Recount()``) or its mirrored twin (``chalicelib.schema.mirrored:EVENTS``). Measured per
record: requests, client CPU (this process's CPU while the handler runs; the endpoint is another
process), seconds per batch, and the capacity units AWS would charge by DynamoDB's rules
(``backfill.migrate.estimate``), from the rows' sizes:

- recount: per batch a consistent GetItem of the event, a consistent COUNT Query over every
  participant row of the event (one read per 1 MB page, 4 KB units) and one UpdateItem;
- mirror: per record one TransactWriteItems of two items (the member's row, the event's ADD),
  each item costing twice its write units (transactions cost double).

The crossover is where the two prices per record meet (reads and writes at ``--price-per-million-
reads``/``-writes``): measured between the two swept sizes that bracket it, interpolated linearly.

On moto the mirror's existing rows are not seeded by default: moto copies every table a
transaction touches (its rollback), so a 100,000-row mirror would time moto's copy, not the
transaction; DynamoDB's cost of a transaction does not depend on the table's size. For the same
reason the bench's tables have no streams (moto copies a table's stream records with it; the
handlers are fed here directly).
``--seed-mirror`` seeds them anyway (use it with ``--endpoint dynamodb-local``). Likewise moto
answers a Query by reading the whole participants table, so the recount's seconds on moto grow
with the table, not only the event.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backfill.live.stream_runner import lambda_event, lambda_record
from backfill.table.request_counter import RequestCounter
from backfill.table.units import (
    DEFAULT_PRICE_PER_MILLION_READS,
    DEFAULT_PRICE_PER_MILLION_WRITES,
    item_size,
    read_units,
    scan_pages,
    update_units,
    write_units,
)
from bench.harness import FAKE_CREDENTIALS, bench_session, make_endpoint
from bench.stream_cost import CapacityHook
from chalicelib.aws import client
from chalicelib.config import Settings
from chalicelib.items import to_typed
from chalicelib.mirror import PRESENT, SEQUENCE, SEQUENCE_WIDTH
from chalicelib.schema import CURRENT, Schema, use_schema
from chalicelib.schema.mirrored import EVENTS
from chalicelib.streams import process_source_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.tables import table_definitions
from localdev.endpoint import MOTO
from localdev.legacy_data import load

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/participants/stream/bench-strategies"
SIZES = (10, 1_000, 5_000, 10_000, 20_000, 100_000)
STRATEGIES: dict[str, Schema] = {"recount": CURRENT, "mirror": EVENTS}


@dataclass(frozen=True)
class Point:
    strategy: str
    participants: int
    records: int
    batches: int
    seconds: float
    cpu_s: float
    requests: int
    read_units: float
    write_units: float
    reported_units: float  # what the endpoint's ConsumedCapacity said (moto: placeholders)

    @property
    def per_record(self) -> dict[str, float]:
        return {"requests": self.requests / self.records, "cpu_ms": 1000 * self.cpu_s / self.records,
                "reported_units": self.reported_units / self.records,
                "read_units": self.read_units / self.records, "write_units": self.write_units / self.records}

    def price_per_million_records(self, reads: float, writes: float) -> float:
        """USD per million records at on-demand prices (USD per million units)."""
        per = self.per_record
        return per["read_units"] * reads + per["write_units"] * writes


def participant(event_id: str, number: int) -> dict[str, Any]:
    return {"eventId": event_id, "participantId": f"p-{number:07d}", "displayName": f"Guest {number}",
            "joinedAt": Decimal(1_706_000_000_000 + number)}


def event(event_id: str, count: int) -> dict[str, Any]:
    return {"eventId": event_id, "name": f"Event {event_id}", "status": "live", "createdAt": Decimal(1_706_000_000_000),
            "visibility": "private", "isTemplate": False, "lastModified": Decimal(1_706_000_000_000),
            "startedAt": Decimal(1_706_000_000_000), "schemaVersion": Decimal(2),
            "participantCount": Decimal(count), "countVersion": Decimal(1), "participantCountMirrored": True}


class Bench:
    def __init__(self, settings: Settings, args: argparse.Namespace) -> None:
        self.settings, self.args = settings, args
        self.dynamodb = client(bench_session(settings.region), "dynamodb", settings)
        self.numbers = itertools.count()
        self.sequence = itertools.count(10**20)
        self.rows: dict[str, list[int]] = {}  # event -> participant row sizes (the recount reads them all)

    def seed(self, size: int) -> None:
        event_id = f"size-{size}"
        load(self.dynamodb, self.settings.table("events"), [event(event_id, size)])
        people = [participant(event_id, next(self.numbers)) for _ in range(size)]
        for start in range(0, len(people), 1000):
            load(self.dynamodb, self.settings.table("participants"), people[start:start + 1000])
            if self.args.seed_mirror:
                load(self.dynamodb, "participant_members", [
                    {"eventId": event_id, "participantId": p["participantId"], PRESENT: True}
                    for p in people[start:start + 1000]])
        self.rows[event_id] = [item_size(to_typed(p)) for p in people]

    def run(self, strategy: str, size: int) -> Point:
        event_id = f"size-{size}"
        with use_schema(STRATEGIES[strategy]):
            deps = Dependencies(self.settings, client(bench_session(self.settings.region), "dynamodb", self.settings))
            reported = CapacityHook(deps.dynamodb)
            seconds = cpu = 0.0
            reads = writes = 0.0
            records = 0
            with RequestCounter().attach(deps.dynamodb) as requests:
                for _ in range(self.args.batches):
                    batch = self._joins(event_id)
                    event_bytes = item_size(self.dynamodb.get_item(TableName=self.settings.table("events"),
                                                                   Key={"eventId": {"S": event_id}})["Item"])
                    started, cpu_started = time.perf_counter(), time.process_time()
                    result = process_source_batch(lambda_event(batch), deps)
                    seconds += time.perf_counter() - started
                    cpu += time.process_time() - cpu_started
                    assert not result.failed_sequence_numbers, result.failed_sequence_numbers
                    records += len(batch)
                    r, w = self._units(strategy, event_id, event_bytes, len(batch))
                    reads, writes = reads + r, writes + w
            calls = sum(requests.calls().values())
        return Point(strategy, size, records, self.args.batches, seconds, cpu, calls, reads, writes, sum(reported.units.values()))

    def _joins(self, event_id: str) -> list[dict[str, Any]]:
        """The application's joins (written to the table, not measured) as Lambda records."""
        batch = []
        for _ in range(self.args.records):
            row = to_typed(participant(event_id, next(self.numbers) + 10**6))
            self.dynamodb.put_item(TableName=self.settings.table("participants"), Item=row)
            self.rows[event_id].append(item_size(row))
            body = {"Keys": {"eventId": row["eventId"], "participantId": row["participantId"]}, "NewImage": row,
                    "SequenceNumber": str(next(self.sequence)), "ApproximateCreationDateTime": time.time()}
            batch.append(lambda_record({"eventID": body["SequenceNumber"], "eventName": "INSERT", "dynamodb": body},
                                       source_arn=ARN, region=self.settings.region))
        return batch

    def _units(self, strategy: str, event_id: str, event_bytes: int, records: int) -> tuple[float, float]:
        """(read units, write units) AWS charges for one batch, by DynamoDB's rules."""
        if strategy == "recount":
            reads = read_units(event_bytes, consistent=True)
            reads += sum(read_units(page, consistent=True) for page in scan_pages(self.rows[event_id]))
            return reads, float(update_units(event_bytes, event_bytes))
        row = {"eventId": {"S": event_id}, "participantId": {"S": "p-0000000"}, PRESENT: {"BOOL": True},
               SEQUENCE: {"S": "0" * SEQUENCE_WIDTH}}
        per_record = 2 * write_units(item_size(row)) + 2 * update_units(event_bytes, event_bytes)
        return 0.0, float(per_record * records)


def crossover(points: list[Point], measure: str, reads: float, writes: float) -> str:
    """Where recount's ``measure`` per record reaches the mirror's, interpolated between sizes."""
    def value(p: Point) -> float:
        if measure == "price":
            return p.price_per_million_records(reads, writes)
        return p.seconds / p.batches

    by = {(p.strategy, p.participants): value(p) for p in points}
    sizes = sorted({p.participants for p in points})
    diff = [(n, by[("recount", n)] - by[("mirror", n)]) for n in sizes if ("recount", n) in by and ("mirror", n) in by]
    for (n0, d0), (n1, d1) in itertools.pairwise(diff):
        if d0 < 0 <= d1:
            at = n0 + (n1 - n0) * (-d0) / (d1 - d0)
            return f"between {n0:,} and {n1:,} participants (about {at:,.0f}, interpolated)"
    if diff and diff[0][1] >= 0:
        return f"at or below {diff[0][0]:,} participants (the mirror is never dearer in this sweep)"
    return f"above {diff[-1][0]:,} participants (the recount is cheaper throughout this sweep)" if diff else "-"


def render(points: list[Point], args: argparse.Namespace, endpoint: str, started: str) -> str:
    reads, writes = args.price_per_million_reads, args.price_per_million_writes
    load1, load5, load15 = os.getloadavg()
    lines = [
        "# Live path cost per record: recount vs membership mirror",
        "",
        f"- **date (UTC)**: {started}",
        f"- **command**: python -m bench.strategies --sizes {','.join(map(str, args.sizes))} --batches {args.batches} "
        f"--records {args.records} --endpoint {args.endpoint}{' --seed-mirror' if args.seed_mirror else ''}",
        f"- **endpoint**: {endpoint}; **cpus**: {os.cpu_count()}; **load average at the end**: "
        f"{load1:.1f} / {load5:.1f} / {load15:.1f}; **python** {platform.python_version()}",
        f"- each row: {args.batches} batches x {args.records} joins of one event, through the real participants "
        "handler; units by DynamoDB's rules (module doc of bench/strategies.py); price at "
        f"{reads:g} USD per million read units and {writes:g} per million write units",
        "- reported units: the endpoint's ConsumedCapacity (reads and writes together; moto's are placeholders)",
        f"- mirror rows of the existing participants: {'seeded' if args.seed_mirror else 'not seeded (moto copies every table a transaction touches; see the module doc)'}",
        "",
        "| strategy | participants | requests/record | client CPU ms/record | s/batch | read units/record | "
        "write units/record | USD per million records | reported units/record |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in sorted(points, key=lambda p: (p.participants, p.strategy)):
        per = p.per_record
        lines.append(f"| {p.strategy} | {p.participants:,} | {per['requests']:.2f} | {per['cpu_ms']:.2f} | "
                     f"{p.seconds / p.batches:.3f} | {per['read_units']:.2f} | {per['write_units']:.2f} | "
                     f"{p.price_per_million_records(reads, writes):.2f} | {per['reported_units']:.2f} |")
    mirror = [p.per_record["read_units"] * reads + p.per_record["write_units"] * writes
              for p in points if p.strategy == "mirror"]
    spread = (max(mirror) / min(mirror) - 1) * 100 if mirror else 0.0
    mirror_seconds = [p.seconds / p.batches for p in points if p.strategy == "mirror"]
    lines += [
        "",
        f"- mirror: price per record from smallest to largest event varies by **{spread:.1f}%** (target: within 10%); "
        f"seconds per batch {min(mirror_seconds):.3f} to {max(mirror_seconds):.3f}" if mirror else "- mirror: not measured",
        f"- crossover by price per record: **{crossover(points, 'price', reads, writes)}**",
        f"- crossover by seconds per batch on this endpoint: **{crossover(points, 'seconds', reads, writes)}**",
    ]
    return "\n".join(lines)


def create_unstreamed_tables(settings: Settings) -> None:
    """The mirrored declaration's tables (the mirror among them), without streams: the handlers
    are fed here, and moto copies a table's stream records with it in every transaction."""
    dynamodb = client(bench_session(settings.region), "dynamodb", settings)
    with use_schema(EVENTS):
        for definition in table_definitions(settings):
            definition.pop("StreamSpecification", None)
            dynamodb.create_table(**definition)
            dynamodb.get_waiter("table_exists").wait(TableName=definition["TableName"], WaiterConfig={"Delay": 1})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.strategies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda s: tuple(int(n) for n in s.split(",")), default=SIZES,
                        help="comma-separated participants per event")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--records", type=int, default=10, help="joins per batch (all of one event)")
    parser.add_argument("--endpoint", default=MOTO, metavar="moto|dynamodb-local")
    parser.add_argument("--seed-mirror", action="store_true", help="seed the mirror rows of the existing participants")
    parser.add_argument("--price-per-million-reads", type=float, default=DEFAULT_PRICE_PER_MILLION_READS)
    parser.add_argument("--price-per-million-writes", type=float, default=DEFAULT_PRICE_PER_MILLION_WRITES)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("strategies.md"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS["aws_access_key_id"],
                      AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS["aws_secret_access_key"])
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    points: list[Point] = []
    with make_endpoint(args.endpoint) as endpoint:
        settings = Settings(endpoint_url=endpoint.url)
        create_unstreamed_tables(settings)
        bench = Bench(settings, args)
        for size in args.sizes:
            bench.seed(size)
            for strategy in STRATEGIES:
                points.append(bench.run(strategy, size))
                print(f"{strategy} {size}: {points[-1].per_record} {points[-1].seconds / args.batches:.3f} s/batch",
                      flush=True)
        kind = "moto server in a separate process" if args.endpoint == MOTO else args.endpoint
    text = render(points, args, kind, started)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
