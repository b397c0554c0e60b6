"""``python -m bench.count_store``: memory per event of the participant count store in memory, and
the client CPU of filling and reading it in memory and on disk (``backfill/table/aggregate_counts.py``);
with ``--counting-cpu``, the client CPU of counting by scan and by query against a moto server in
its own process (the figure behind ``QUERY_CPU_IN_SCANNED_ROWS``).

Bytes per event: tracemalloc's traced memory after building the store from synthetic pages of
participant rows (ids shaped like the seed's ``evt-NNNNNN`` and like UUIDs, 1-9 rows per event),
the id strings included (the store keeps them). CPU: ``time.process_time`` per event added (one
batch per page, as the scan adds them) and per lookup (as the migration's writers look them up).
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from backfill.table.aggregate_counts import (
    CountStore,
    DiskCounts,
    MemoryCounts,
    count_by_query,
    count_groups,
)
from bench.harness import ServerProcess, bench_session, fresh_tables
from chalicelib.aws import client
from chalicelib.config import Settings
from localdev.legacy_data import generate

SHAPES: dict[str, Callable[[int], str]] = {
    "evt-NNNNNN": lambda i: f"evt-{i:06d}",
    "uuid": lambda i: str(uuid.UUID(int=random.Random(i).getrandbits(128))),
}


def _pages(ids: list[str], rows_per_page: int, seed: int) -> list[Counter[str]]:
    rng = random.Random(seed)
    rows = [event_id for event_id in ids for _ in range(rng.randint(1, 9))]
    rng.shuffle(rows)
    return [Counter(rows[i:i + rows_per_page]) for i in range(0, len(rows), rows_per_page)]


def measure(events: int, shape: str, rows_per_page: int = 5000) -> dict[str, Any]:
    make = SHAPES[shape]
    pages = _pages([make(i) for i in range(events)], rows_per_page, seed=1)
    # Memory: the store's own dict and keys (copied inside the traced window).
    tracemalloc.start()
    memory = MemoryCounts()
    for page in pages:
        memory.add({"".join(list(e)): n for e, n in page.items()})  # copies: the store owns its keys
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    result: dict[str, Any] = {"events": events, "shape": shape, "memory_bytes_per_event": round(traced / events, 1)}
    lookups = [make(i) for i in random.Random(2).choices(range(events), k=min(events, 50_000))]
    stores: list[tuple[str, CountStore]] = [("memory", memory), ("disk", DiskCounts())]
    for name, store in stores:
        if name == "disk":
            started = time.process_time()
            for page in pages:
                store.add(page)
            result["disk_add_us_per_event"] = round((time.process_time() - started) / events * 1e6, 2)
        started = time.process_time()
        for event_id in lookups:
            store.get(event_id)
        result[f"{name}_get_us"] = round((time.process_time() - started) / len(lookups) * 1e6, 3)
        store.close()
    return result


def measure_counting_cpu(events: int = 1000, participants: int = 3000, threads: int = 8) -> dict[str, Any]:
    """Client CPU (``time.process_time``: this process only, the server runs in another) of
    counting every event's participants by one scan and by one COUNT query per event."""
    settings = Settings()
    server = ServerProcess().start()
    try:
        settings = settings.with_overrides(endpoint_url=server.url)
        data = generate(events=events, participants=participants, malformed=0, seed=1)
        fresh_tables(server, settings, data)
        dynamodb = client(bench_session(settings.region), "dynamodb", settings)
        ids = sorted(data.participant_counts())
        started = time.process_time()
        scanned = count_groups(dynamodb, settings.table("participants"), 4)
        scan_s = time.process_time() - started
        queried = MemoryCounts()
        started = time.process_time()
        for _ in count_by_query(dynamodb, settings.table("participants"), ids, lambda e: e, queried, threads=threads):
            pass
        query_s = time.process_time() - started
        assert dict(queried.items()) == dict(scanned.items())
        rows = scanned.total()
        return {"events_with_participants": len(ids), "participant_rows": rows,
                "scan_ms_per_row": round(scan_s / rows * 1e3, 4),
                "query_ms_per_event": round(query_s / len(ids) * 1e3, 3),
                "query_in_scanned_rows": round(query_s / len(ids) / (scan_s / rows))}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--counting-cpu", action="store_true", help="also measure counting by scan and by query")
    args = parser.parse_args()
    results: list[dict[str, Any]] = [measure(args.events, shape) for shape in SHAPES]
    if args.counting_cpu:
        results.append(measure_counting_cpu())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
