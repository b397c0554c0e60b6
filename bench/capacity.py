"""``python -m bench.capacity``: does ``migrate --max-capacity N`` hold the run to N write units per
second? Against a moto server (its own process), a table of legacy events is migrated in-process
once without a limit (the baseline) and once per limit N. The write units are summed from the
endpoint's own answers (``ConsumedCapacity`` of every UpdateItem, collected by this bench's hook
on the client, not by the code under test); the rate is those units over the time from the first
write to the last. Writes ``bench/capacity.md``."""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from backfill.migrate import MigrationOptions, run_migration
from backfill.table.target import Target
from bench.harness import ServerProcess, bench_session, fresh_tables
from chalicelib.config import Settings
from localdev.legacy_data import generate

RESULTS = Path(__file__).with_name("capacity.md")
SEVERAL_WORKERS = "## Several workers"  # bench.capacity_workers writes that section


class UnitsSeen:
    """(time, units) of every UpdateItem answer that reports ConsumedCapacity."""

    def __init__(self, client: Any) -> None:
        self.writes: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        client.meta.events.register("after-call.dynamodb.UpdateItem", self._seen, unique_id="bench-capacity")

    def _seen(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        units = ((parsed or {}).get("ConsumedCapacity") or {}).get("CapacityUnits")
        if units is not None:
            with self._lock:
                self.writes.append((time.monotonic(), float(units)))

    def rate(self) -> tuple[float, float, float]:
        """(units in all, seconds from the first write to the last, units per second over them:
        the last write's units are outside the interval)."""
        times = [t for t, _ in self.writes]
        total = sum(u for _, u in self.writes)
        span = max(times) - min(times)
        return total, span, (total - self.writes[-1][1]) / span if span > 0 else float("inf")


def measure(server: ServerProcess, events: int, limit: float | None) -> dict[str, Any]:
    settings = Settings().with_overrides(endpoint_url=server.url, region="us-east-1")
    fresh_tables(server, settings, generate(events=events, participants=events, malformed=0, seed=7))
    target = Target(settings, _session=bench_session(settings.region))
    seen = UnitsSeen(target.dynamodb)
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as scratch:
        options = MigrationOptions(backup_dir=Path(scratch), workers=8,
                                   max_capacity=None if limit is None else f"{limit:g}")
        report = run_migration(target, options)
    total, span, rate = seen.rate()
    return {"limit": limit, "migrated": report.migrated, "writes": len(seen.writes), "units": round(total, 1),
            "seconds": round(span, 2), "units_per_s": round(rate, 2),
            "off_by": None if limit is None else round((rate - limit) / limit * 100, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--limits", default="5,10,20", help="comma-separated write units per second (below the "
                        "baseline's: a limit above what the endpoint serves holds nothing)")
    args = parser.parse_args()
    limits = [float(x) for x in args.limits.split(",")]
    with ServerProcess() as server:
        rows = [measure(server, args.events, None)] + [measure(server, args.events, n) for n in limits]
    lines = ["# `migrate --max-capacity N` on a moto server", "",
             f"`python -m bench.capacity --events {args.events} --limits {args.limits}`: {args.events} legacy events, "
             "8 writers, one process. Units are the endpoint's own `ConsumedCapacity` answers, summed by the bench; "
             "the rate is over the time from the first write to the last.", "",
             "| limit (units/s) | writes | units | seconds | units/s | off by |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['limit'] if row['limit'] is not None else 'none (baseline)'} | {row['writes']} | "
                     f"{row['units']} | {row['seconds']} | {row['units_per_s']} | "
                     f"{'' if row['off_by'] is None else str(row['off_by']) + ' %'} |")
    workers = RESULTS.read_text().partition(SEVERAL_WORKERS)[1:] if RESULTS.exists() else ("", "")
    # (bench.capacity_workers' section is kept)
    RESULTS.write_text("\n".join(lines) + "\n" + ("\n" + "".join(workers) if workers[0] else ""))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
