"""The whole benchmark run: every measurement on identical, freshly seeded data, in one process."""

from __future__ import annotations

import itertools
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.backup_restore import run_backup, run_bulk_restore, run_restore_of
from bench.baseline import run_baseline
from bench.dump_tool import run_dump_tool_restore
from bench.floor import run_floor
from bench.harness import Measurement, bench_session, fresh_tables, measure
from bench.migrate_run import run_default_migration
from bench.stream_cost import SIZES, run_stream_cost
from bench.stream_cost import seed as seed_sized_events
from bench.stream_path import StreamMix, run_stream_path
from chalicelib.aws import client
from chalicelib.config import Settings
from localdev.legacy_data import LegacyDataSet, generate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sizes:
    events: int = 5000
    participants: int = 25000
    malformed: int = 10
    scaling: tuple[int, ...] = (1000, 5000, 20000)  # events; participants scale 5x
    baseline_seconds: float = 60.0
    floor_threads: tuple[int, ...] = (4, 8, 16)
    stream_batches: int = 50  # per workload; the spread one costs ~4 s per batch on moto
    stream_events: int = 1000
    stream_participants: int = 2000
    event_sizes: tuple[int, ...] = SIZES  # participants per event for the stream cost by size
    size_batches: int = 5
    size_records: int = 10
    # Extra (floor, migrate) pairs, run alternately after the main ones: client CPU per event moves
    # by several percent between runs on a shared machine, so the CPU target uses the median of
    # every pair's ratio instead of one pair's.
    cpu_pairs: int = 2

    @classmethod
    def quick(cls) -> Sizes:
        return cls(events=600, participants=3000, malformed=3, scaling=(300, 600, 1200),
                   baseline_seconds=10.0, floor_threads=(8,), stream_batches=10,
                   stream_events=300, stream_participants=600, event_sizes=(10, 1000, 5000), size_batches=3,
                   cpu_pairs=0)


@dataclass
class Results:
    sizes: Sizes
    baseline: Measurement | None = None
    migrate: Measurement | None = None
    floors: list[Measurement] = field(default_factory=list)
    scaling: list[Measurement] = field(default_factory=list)
    streams: list[Measurement] = field(default_factory=list)
    stream_sizes: list[Measurement] = field(default_factory=list)
    backups: list[Measurement] = field(default_factory=list)
    restore: Measurement | None = None
    bulk_restore: Measurement | None = None
    dump_tool: Measurement | None = None
    cpu_pairs: list[tuple[Measurement, Measurement]] = field(default_factory=list)  # (floor, migrate)
    not_measured: list[str] = field(default_factory=list)

    @property
    def floor(self) -> Measurement | None:
        """The floor at the migration's default concurrency (8 writers), else the fastest."""
        same = [m for m in self.floors if m.notes.get("threads") == 8]
        return same[0] if same else max(self.floors, key=lambda m: m.rate, default=None)


def _data(events: int, participants: int, malformed: int) -> LegacyDataSet:
    return generate(events=events, participants=participants, malformed=malformed, seed=7)


def run_suite(endpoint: Any, sizes: Sizes, sections: set[str]) -> Results:
    settings = Settings(endpoint_url=endpoint.url)
    results = Results(sizes)
    data = _data(sizes.events, sizes.participants, sizes.malformed)
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))

    if "baseline" in sections:
        fresh_tables(endpoint, settings, data)
        results.baseline = _measure(
            results, "baseline (seed's algorithm)", settings,
            lambda session, _: run_baseline(session, settings, max_seconds=sizes.baseline_seconds),
        )

    if "migrate" in sections:
        fresh_tables(endpoint, settings, data)
        results.migrate = _measure(
            results, "backfill migrate --yes (defaults)", settings,
            lambda session, _: run_default_migration(session, settings, backup_dir=scratch / "migrate"),
        )
        if "restore" in sections:
            _measure_restore(results, settings, scratch)

    if "floor" in sections:
        for threads in sizes.floor_threads:
            fresh_tables(endpoint, settings, data)
            results.floors.append(_measure(
            results, f"floor (boto3 only), {threads} writers", settings,
                lambda session, _, n=threads: run_floor(session, settings.endpoint_url, settings.table("events"),
                                                        settings.table("participants"), threads=n),
            ))

    if "migrate" in sections and "floor" in sections and results.migrate and results.floor:
        results.cpu_pairs.append((results.floor, results.migrate))
        for n in range(sizes.cpu_pairs):
            pair = []
            for name, body in (
                ("floor (boto3 only), 8 writers", lambda session, _: run_floor(
                    session, settings.endpoint_url, settings.table("events"), settings.table("participants"), threads=8)),
                ("backfill migrate --yes (defaults)", lambda session, _: run_default_migration(session, settings)),
            ):
                fresh_tables(endpoint, settings, data)
                pair.append(_measure(results, f"{name}, CPU pair {n + 2}", settings, body))
            if pair[0] is not None and pair[1] is not None:
                results.cpu_pairs.append((pair[0], pair[1]))

    if "dump_tool" in sections:
        fresh_tables(endpoint, settings, data)
        results.dump_tool = _measure(
            results, "dump tool: dynamodump restore into an empty table", settings,
            lambda session, watch: run_dump_tool_restore(session, watch, settings, f"{settings.table('events')}-dump-copy"),
        )

    if "scaling" in sections:
        for events in sizes.scaling:
            if events == sizes.events and results.migrate is not None:
                results.scaling.append(results.migrate)
                continue
            sized = _data(events, 5 * events, max(0, sizes.malformed * events // sizes.events))
            fresh_tables(endpoint, settings, sized)
            results.scaling.append(_measure(
            results, f"migrate, {events} events", settings,
                lambda session, _: run_default_migration(session, settings),
            ))

    if "stream" in sections:
        stream_data = _data(sizes.stream_events, sizes.stream_participants, 0)
        for hot in (5, None):
            mix = StreamMix(batches=sizes.stream_batches, hot_events=hot)
            fresh_tables(endpoint, settings, stream_data)
            label = f"{hot} hot events" if hot else f"spread over {sizes.stream_events} events"
            results.streams.append(_measure(
            results, f"stream path, {label}", settings,
                lambda session, watch, m=mix: run_stream_path(session, watch, settings, stream_data, m),
            ))

    if "stream_sizes" in sections:
        fresh_tables(endpoint, settings, _data(0, 0, 0))
        session_rows = seed_sized_events(_client(settings), settings, sizes.event_sizes)
        numbers = itertools.count(10**6)
        for size in sizes.event_sizes:
            results.stream_sizes.append(_measure(
            results, f"recount of an event with {size:,} participants", settings,
                lambda session, watch, n=size: run_stream_cost(
                    session, watch, settings, size=n, batches=sizes.size_batches,
                    records_per_batch=sizes.size_records, row_sizes=session_rows[f"size-{n}"], next_number=numbers),
            ))

    if "backup" in sections:
        fresh_tables(endpoint, settings, data)
        for table in (settings.table("events"), settings.table("participants")):
            results.backups.append(_measure(
            results, f"backup of {table}", settings,
                lambda session, _, t=table: run_backup(session, settings, t, scratch / "backups"),
            ))
    for name in ("floors", "scaling", "streams", "stream_sizes", "backups"):
        setattr(results, name, [m for m in getattr(results, name) if m is not None])
    return results


def _measure(results: Results, name: str, settings: Settings, body: Any) -> Any:
    """``measure``, but a failed measurement (e.g. the endpoint timing out on a busy machine) is
    listed under "Not measured" instead of losing the whole run."""
    try:
        return measure(name, settings, body)
    except Exception as error:  # noqa: BLE001 - reported in the results
        log.exception("%s failed", name)
        results.not_measured.append(f"{name}: failed with {type(error).__name__}: {error}")
        return None


def _client(settings: Settings) -> Any:
    return client(bench_session(settings.region), "dynamodb", settings)


def _measure_restore(results: Results, settings: Settings, scratch: Path) -> None:
    try:
        import backfill.restore  # noqa: F401
    except ImportError:
        results.not_measured.append("restore: backfill.restore not landed")
        return
    if results.migrate is None:
        results.not_measured.append("restore: the migration it restores did not complete")
        return
    manifest = Path(results.migrate.notes["backup_file"])
    results.restore = _measure(
            results, "restore after migrate", settings,
        lambda session, _: run_restore_of(session, settings, manifest, scratch / "migrate"),
    )
    results.bulk_restore = _measure(
            results, "bulk restore into an empty table (restore --to-table)", settings,
        lambda session, watch: run_bulk_restore(session, watch, settings, manifest, f"{settings.table('events')}-bulk-copy"),
    )
