"""``python -m bench.capacity_workers``: does ``--max-capacity N`` hold a run of several worker
*processes* to N write units per second in all, measured across them? Each worker is
``backfill migrate --segment K --total-segments W --max-capacity N`` in its own process, all on
one run store (a local directory) against a moto server (its own process). Between the workers
and moto sits this bench's counting proxy: it sums the ``ConsumedCapacity`` of every UpdateItem
answer as it passes (the endpoint's own figures, not the code under test's); the rate is those
units over the time from the first write to the last. Two runs per limit: every worker of the
split running, and one worker fewer than the split (fixed shares by segment would hold that run
to (W-1)/W of N), after a baseline without a limit (what the endpoint and this machine serve:
a limit above it holds nothing). Writes the "Several workers" section of ``bench/capacity.md``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.harness import FAKE_CREDENTIALS, ServerProcess, fresh_tables
from chalicelib.config import Settings
from localdev.legacy_data import generate
from localdev.proxy import Answer, ForwardingProxy

RESULTS = Path(__file__).with_name("capacity.md")
SECTION = "## Several workers"


class CountingProxy(ForwardingProxy):
    """Forwards every request to ``upstream`` and records (time, units) of each UpdateItem answer."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.writes: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def answer(self, operation: str, upstream: Answer) -> Answer:
        if operation == "UpdateItem" and upstream.status == 200:
            units = (json.loads(upstream.payload or b"{}").get("ConsumedCapacity") or {}).get("CapacityUnits")
            if units is not None:
                with self._lock:
                    self.writes.append((time.monotonic(), float(units)))
        return upstream

    def rate(self) -> tuple[float, float, float]:
        """(units in all, seconds from the first write to the last, units per second over them)."""
        times = [t for t, _ in self.writes]
        total = sum(u for _, u in self.writes)
        span = max(times) - min(times)
        return total, span, (total - self.writes[-1][1]) / span if span > 0 else float("inf")


def measure(server: ServerProcess, events: int, limit: float | None, split: int, running: int) -> dict[str, Any]:
    settings = Settings().with_overrides(endpoint_url=server.url, region="us-east-1")
    fresh_tables(server, settings, generate(events=events, participants=events, malformed=0, seed=7))
    with CountingProxy(server.url).running() as proxy, tempfile.TemporaryDirectory(prefix="bench-cap-") as runs:
        env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
               "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
               "EVENTS_TABLE": settings.table("events"), "PARTICIPANTS_TABLE": settings.table("participants")}
        workers = [subprocess.Popen(
            [sys.executable, "-m", "backfill", "migrate", "--yes", "--run-id", "cap", "--total-segments", str(split),
             "--segment", str(k), *(["--max-capacity", f"{limit:g}"] if limit else []), "--writers", "4",
             "--backup-dir", runs],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for k in range(running)]
        codes = [(w.wait(timeout=1800), w.stderr.read() if w.stderr else "") for w in workers]
        for code, stderr in codes:
            if code != 0:
                raise RuntimeError(f"a worker exited {code}: {stderr[-2000:]}")
        total, span, rate = proxy.rate()
    return {"limit": limit, "split": split, "running": running, "writes": len(proxy.writes), "units": round(total, 1),
            "seconds": round(span, 2), "units_per_s": round(rate, 2),
            "off_by": None if limit is None else round((rate - limit) / limit * 100, 1),
            "fixed_shares": None if limit is None else round(limit * running / split, 2)}


def write_section(rows: list[dict[str, Any]], command: str) -> str:
    lines = [SECTION, "",
             f"`{command}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: each worker its own process "
             "(`migrate --segment K --total-segments W --max-capacity N --writers 4`) on one local run store; units "
             "counted by the bench's proxy in front of moto from the endpoint's own `ConsumedCapacity` answers; "
             "the rate is over the time from the first write to the last, of all workers together. *Fixed "
             "shares* is what a share by segments (N/W per worker) would hold the running workers to.", "",
             "| limit (units/s) | split | workers running | writes | units | seconds | units/s | off by | fixed shares |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        limit = "none (baseline)" if row["limit"] is None else f"{row['limit']:g}"
        off_by = "" if row["off_by"] is None else f"{row['off_by']} %"
        lines.append(f"| {limit} | {row['split']} | {row['running']} | {row['writes']} | {row['units']} | "
                     f"{row['seconds']} | {row['units_per_s']} | {off_by} | {row['fixed_shares'] or ''} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity_workers", description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--limits", default="10", help="comma-separated write units per second")
    parser.add_argument("--split", type=int, default=3, help="the run's --total-segments")
    args = parser.parse_args()
    command = f"python -m bench.capacity_workers --events {args.events} --limits {args.limits} --split {args.split}"
    with ServerProcess() as server:
        limits: list[float | None] = [None, *(float(limit) for limit in args.limits.split(","))]
        rows = [measure(server, args.events, limit, args.split, running)
                for limit in limits for running in (args.split, args.split - 1)]
    section = write_section(rows, command)
    text = RESULTS.read_text() if RESULTS.exists() else ""
    kept = text.split(SECTION)[0].rstrip("\n")
    RESULTS.write_text((kept + "\n\n" if kept else "") + section)
    print(section)


if __name__ == "__main__":
    main()
