"""The whole benchmark run: every measurement on identical, freshly seeded data, in one process."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backfill.legacy_data import LegacyDataSet, generate
from bench.backup_restore import run_backup, run_restore_of
from bench.baseline import run_baseline
from bench.ceiling import run_ceiling
from bench.harness import Measurement, fresh_tables, measure
from bench.migrate_run import run_default_migration
from bench.stream_path import StreamMix, run_stream_path
from chalicelib.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sizes:
    events: int = 5000
    participants: int = 25000
    malformed: int = 10
    scaling: tuple[int, ...] = (1000, 5000, 20000)  # events; participants scale 5x
    baseline_seconds: float = 60.0
    ceiling_threads: tuple[int, ...] = (1, 4, 8, 16)
    stream_batches: int = 50  # per workload; the spread one costs ~4 s per batch on moto
    stream_events: int = 1000
    stream_participants: int = 2000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(events=600, participants=3000, malformed=3, scaling=(300, 600, 1200),
                   baseline_seconds=10.0, ceiling_threads=(1, 4, 8), stream_batches=10,
                   stream_events=300, stream_participants=600)


@dataclass
class Results:
    sizes: Sizes
    baseline: Measurement | None = None
    migrate: Measurement | None = None
    ceilings: list[Measurement] = field(default_factory=list)
    scaling: list[Measurement] = field(default_factory=list)
    streams: list[Measurement] = field(default_factory=list)
    backups: list[Measurement] = field(default_factory=list)
    restore: Measurement | None = None
    not_measured: list[str] = field(default_factory=list)

    @property
    def best_ceiling(self) -> Measurement | None:
        return max(self.ceilings, key=lambda m: m.rate, default=None)


def _data(events: int, participants: int, malformed: int) -> LegacyDataSet:
    return generate(events=events, participants=participants, malformed=malformed, seed=7)


def run_suite(endpoint: Any, sizes: Sizes, sections: set[str]) -> Results:
    settings = Settings(endpoint_url=endpoint.url)
    results = Results(sizes)
    data = _data(sizes.events, sizes.participants, sizes.malformed)
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))

    if "baseline" in sections:
        fresh_tables(endpoint, settings, data)
        results.baseline = measure(
            "baseline (seed's algorithm)", settings,
            lambda session, _: run_baseline(session, settings, max_seconds=sizes.baseline_seconds),
        )

    if "migrate" in sections:
        fresh_tables(endpoint, settings, data)
        results.migrate = measure(
            "backfill migrate --yes (defaults)", settings,
            lambda session, _: run_default_migration(session, settings, backup_dir=scratch / "migrate"),
        )
        if "restore" in sections:
            _measure_restore(results, settings, scratch)

    if "ceiling" in sections:
        for threads in sizes.ceiling_threads:
            fresh_tables(endpoint, settings, data)
            results.ceilings.append(measure(
                f"ceiling, {threads} writer(s)", settings,
                lambda session, _, n=threads: run_ceiling(session, settings, threads=n),
            ))

    if "scaling" in sections:
        for events in sizes.scaling:
            if events == sizes.events and results.migrate is not None:
                results.scaling.append(results.migrate)
                continue
            sized = _data(events, 5 * events, max(0, sizes.malformed * events // sizes.events))
            fresh_tables(endpoint, settings, sized)
            results.scaling.append(measure(
                f"migrate, {events} events", settings,
                lambda session, _: run_default_migration(session, settings),
            ))

    if "stream" in sections:
        stream_data = _data(sizes.stream_events, sizes.stream_participants, 0)
        for hot in (5, None):
            mix = StreamMix(batches=sizes.stream_batches, hot_events=hot)
            fresh_tables(endpoint, settings, stream_data)
            label = f"{hot} hot events" if hot else f"spread over {sizes.stream_events} events"
            results.streams.append(measure(
                f"stream path, {label}", settings,
                lambda session, watch, m=mix: run_stream_path(session, watch, settings, stream_data, m),
            ))

    if "backup" in sections:
        fresh_tables(endpoint, settings, data)
        for table in (settings.events_table, settings.participants_table):
            results.backups.append(measure(
                f"backup of {table}", settings,
                lambda session, _, t=table: run_backup(session, settings, t, scratch / "backups"),
            ))
    return results


def _measure_restore(results: Results, settings: Settings, scratch: Path) -> None:
    try:
        import backfill.restore  # noqa: F401
    except ImportError:
        results.not_measured.append("restore: backfill.restore not landed")
        return
    assert results.migrate is not None
    manifest = Path(results.migrate.notes["backup_file"])
    results.restore = measure(
        "restore after migrate", settings,
        lambda session, _: run_restore_of(session, settings, manifest, scratch / "migrate"),
    )
