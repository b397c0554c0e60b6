"""Old and new writers on hot rows while the expand backfill and the live path run: the workload
of issue 31 for a declaration with several renames (``examples.rename.several``), judged by a
model written here, not by the rule.

Every row starts in the v2 shape with the old names. An old writer saves its whole v2 shape (every
old name, a note of its own; the new names dropped) or updates one old name; a new writer updates
one new name (and an attribute of its own). Each value written is new (a counter), so every write
is one DynamoDB Streams records. A row's writes are serialised by a lock, so the model knows their
order: for each pair, the last write's value (in the new name's representation). Once the streams
are drained every row must hold that value under both names, and the writers' own attributes as
they left them.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backfill.live.stream_runner import RunStats, StreamRunner
from backfill.migrate import MigrationOptions, run_migration
from backfill.table.target import Target
from backfill.verify import VerifyOptions, run_verify
from chalicelib.items import to_python, typed_value
from chalicelib.schema import Schema

CREATED = 1_767_225_000_000


def S(text: str) -> dict[str, str]:
    return {"S": text}


@dataclass(frozen=True)
class PairValues:
    """How the writers write one pair with a fresh number ``n``, and what each value means."""

    old: str
    new: str
    old_value: Callable[[int], Any]  # what an old writer writes
    new_value: Callable[[int], Any]  # what a new writer writes
    logical: Callable[[Any], Any]  # a stored old value as the new name holds it


PAIRS: dict[str, PairValues] = {
    "description": PairValues("description", "summary", lambda n: f"d{n}", lambda n: f"s{n}", lambda v: v),
    "priority": PairValues("priority", "priorityLevel", lambda n: str(n), lambda n: n, lambda v: int(v)),
    "tags": PairValues("tags", "tagSet", lambda n: f"t{n}, x", lambda n: frozenset({f"t{n}"}),
                       lambda v: frozenset(t.strip() for t in v.split(",")) - {""}),
}


def plain(value: Any) -> Any:
    """A stored value as the model holds it (numbers as int, sets frozen)."""
    if isinstance(value, set):
        return frozenset(value)
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (bool, float)):
        return int(value)
    return value


@dataclass
class Row:
    values: dict[str, Any]  # pair (old name) -> the last write's logical value
    note: str | None = None  # only the old app writes legacyNote
    organizer: str | None = None  # only the new app writes organizerId
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Outcome:
    rows: int
    writes: int
    out_of_step: list[str]  # rows where a pair's names disagree (or one is missing)
    lost: list[str]  # rows in step on a value that is not the last write's
    touched: list[str]  # rows whose writers' own attributes are not as they left them
    failures: list[dict[str, Any]]  # the live path's failures table
    verify_ok: bool
    refused_by_backfill: int = 0  # rows out of step when the backfill read them: the live path settles them
    given_up: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"rows={self.rows} writes={self.writes} out_of_step={len(self.out_of_step)} lost={len(self.lost)} "
                f"touched={len(self.touched)} failures={len(self.failures)} verify_ok={self.verify_ok} "
                f"refused_by_backfill={self.refused_by_backfill} given_up={len(self.given_up)}")


def v2_item(key: str, pairs: Mapping[str, PairValues], n: int, note: str) -> dict[str, Any]:
    item = {"eventId": S(key), "name": S("Quiz"), "status": S("setup"), "visibility": S("private"),
            "isTemplate": {"BOOL": False}, "createdAt": {"N": str(CREATED)}, "lastModified": {"N": str(CREATED)},
            "participantCount": {"N": "0"}, "countVersion": {"N": "1"}, "schemaVersion": {"N": "2"},
            "legacyNote": S(note)}
    for pair in pairs.values():
        item[pair.old] = typed_value(pair.old_value(n))
    return item


@dataclass
class Workload:
    """The rows, the model, and the two writers (each ``writes`` writes, seeded)."""

    schema: Schema
    settings: Any
    rows: int
    writes: int
    seed: int
    model: dict[str, Row] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _numbers_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pairs(self) -> dict[str, PairValues]:
        return {r.old: PAIRS[r.old] for r in self.schema.renames}

    @property
    def events(self) -> str:
        return str(self.settings.table("events"))

    def seed_rows(self, dynamodb: Any) -> None:
        for key in (f"r{n:03}" for n in range(self.rows)):
            dynamodb.put_item(TableName=self.events, Item=v2_item(key, self.pairs, 0, "seed"))
            self.model[key] = Row({old: p.logical(p.old_value(0)) for old, p in self.pairs.items()}, note="seed")

    def _number(self) -> int:
        with self._numbers_lock:
            return next(self._numbers)

    def old_writer(self) -> None:
        client, chooser, pairs = Target(settings=self.settings).dynamodb, random.Random(self.seed), self.pairs
        for _ in range(self.writes):
            row = self.model[key := chooser.choice(sorted(self.model))]
            with row.lock:
                n = self._number()
                if chooser.random() < 0.4:  # the old app saves its whole v2 shape
                    client.put_item(TableName=self.events, Item=v2_item(key, pairs, n, f"note{n}"))
                    row.values = {old: pair.logical(pair.old_value(n)) for old, pair in pairs.items()}
                    row.note, row.organizer = f"note{n}", None
                    continue
                pair = pairs[chooser.choice(sorted(pairs))]
                client.update_item(TableName=self.events, Key={"eventId": S(key)}, UpdateExpression="SET #n = :v",
                                   ExpressionAttributeNames={"#n": pair.old},
                                   ExpressionAttributeValues={":v": typed_value(pair.old_value(n))})
                row.values[pair.old] = pair.logical(pair.old_value(n))

    def new_writer(self) -> None:
        client, chooser, pairs = Target(settings=self.settings).dynamodb, random.Random(self.seed + 1), self.pairs
        for _ in range(self.writes):
            row = self.model[key := chooser.choice(sorted(self.model))]
            with row.lock:
                n = self._number()
                pair = pairs[chooser.choice(sorted(pairs))]
                value = pair.new_value(n)
                typed = typed_value(set(value) if isinstance(value, frozenset) else value)
                client.update_item(TableName=self.events, Key={"eventId": S(key)},
                                   UpdateExpression="SET #n = :v, organizerId = :o",
                                   ExpressionAttributeNames={"#n": pair.new},
                                   ExpressionAttributeValues={":v": typed, ":o": S(f"org{n}")})
                row.values[pair.old], row.organizer = value, f"org{n}"


def _guarded(work: Callable[[], None], errors: list[BaseException]) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except BaseException as error:  # surfaced by run_hot_rows
            errors.append(error)

    return run


def run_hot_rows(schema: Schema, settings: Any, backup_dir: Path, *, rows: int, writes: int,
                 seed: int = 31) -> Outcome:
    """``writes`` writes by each of the two writers over ``rows`` rows, beside the expand backfill
    of ``schema`` and the live path (the local stream runner calling the real handlers)."""
    target = Target(settings=settings)
    work = Workload(schema, settings, rows, writes, seed)
    work.seed_rows(target.dynamodb)
    runner = StreamRunner(Target(settings=settings))
    done = threading.Event()
    errors: list[BaseException] = []

    def live_path() -> None:
        while not done.is_set():
            runner.poll(RunStats())

    writers = [threading.Thread(target=_guarded(w, errors)) for w in (work.old_writer, work.new_writer)]
    live = threading.Thread(target=_guarded(live_path, errors))
    for thread in (*writers, live):
        thread.start()
    report = run_migration(target, MigrationOptions(backup_dir=backup_dir, segments=2))
    for thread in writers:
        thread.join()
    done.set()
    live.join()
    if errors:
        raise errors[0]
    stats = runner.drain()
    outcome = _judge(work, target, backup_dir)
    outcome.refused_by_backfill, outcome.given_up = report.tally.count("refused"), stats.given_up
    return outcome


def _judge(work: Workload, target: Target, backup_dir: Path) -> Outcome:
    items = target.dynamodb.scan(TableName=work.events, ConsistentRead=True)["Items"]
    stored = {item["eventId"]["S"]: to_python(item) for item in items}
    out_of_step, lost, touched = [], [], []
    for key, row in work.model.items():
        item = stored[key]
        for old, pair in work.pairs.items():
            if pair.old not in item or pair.new not in item \
                    or plain(pair.logical(item[pair.old])) != plain(item[pair.new]):
                out_of_step.append(key)
                break
            if plain(item[pair.new]) != row.values[old]:
                lost.append(key)
                break
        if (item.get("legacyNote"), item.get("organizerId")) != (row.note, row.organizer) \
                or plain(item.get("schemaVersion")) != work.schema.version:
            touched.append(key)
    failures = target.dynamodb.scan(TableName=work.settings.failures_table)["Items"]
    verified = run_verify(target, VerifyOptions(backup_dir=backup_dir, total_segments=2)).ok
    return Outcome(work.rows, 2 * work.writes, out_of_step, lost, touched, failures, verified)
