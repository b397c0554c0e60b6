"""Turn a suite's measurements into the printed summary and ``bench/results.md``."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from datetime import datetime, timezone
from importlib.metadata import version

from bench.harness import Measurement
from bench.suite import Results

LINEAR_TOLERANCE = 1.3  # largest / smallest time per event still called linear


def migrated(m: Measurement) -> int:
    """Events actually written by a backfill measurement (the denominator of requests/event)."""
    if "migrated" in m.notes:
        return int(m.notes["migrated"])
    if "results" in m.notes:
        return int(m.notes["results"].get("upgraded", 0))
    return m.items - int(m.notes.get("refused", 0))  # baseline


def _f(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:,.1f} MiB"


def _ops(calls: dict[str, int]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(calls.items())) or "none"


def baseline_without_moto_query(m: Measurement) -> float | None:
    """Estimated baseline events/s if each Query cost what a PutItem costs (as on AWS)."""
    spent = m.notes.get("seconds_in", {})
    queries, puts = m.calls.get("Query", 0), m.calls.get("PutItem", 0)
    if not queries or not puts:
        return None
    adjusted = m.seconds - spent.get("Query", 0.0) + queries * spent.get("PutItem", 0.0) / puts
    return m.items / adjusted if adjusted > 0 else None


def machine() -> dict[str, str]:
    return {
        "date (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "cpus (nproc)": str(os.cpu_count()),
        "load average at the end (1/5/15 min)": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "moto": version("moto"),
        "boto3": version("boto3"),
        "endpoint": "moto server in a separate process (one per run, reset and reseeded per measurement)",
    }


DUMP_TOOL_ITEMS_PER_S = 3300  # issue 15's figure for a widely used dump tool (BatchWriteItem), quoted
CPU_TARGET = 1.05  # migrate's client CPU per event / the floor's
RESTORE_TARGET = 0.9  # in-place restore's throughput / the floor's


def render(results: Results, endpoint_kind: str) -> str:
    lines: list[str] = ["# Benchmark results", ""]
    info = machine()
    info["endpoint"] = endpoint_kind
    lines += [f"- **{k}**: {v}" for k, v in info.items()]
    s = results.sizes
    lines += [f"- **data**: {s.events:,} legacy events ({s.malformed} malformed) and {s.participants:,} participants"
              " (deterministic seed), identical for every backfill measurement",
              "- **client CPU** is this process's CPU time (all threads; `time.process_time`) while measuring; the "
              "endpoint runs in another process, so it is the client's own cost, and it is far less sensitive to a "
              "busy machine than wall time", ""]
    lines += _side_by_side(results) + _scaling(results) + _streams(results) + _stream_sizes(results)
    if results.not_measured:
        lines += ["## Not measured", ""] + [f"- not measured: {reason}" for reason in results.not_measured] + [""]
    return "\n".join(lines)


def _row(m: Measurement, floor: Measurement | None) -> str:
    n = migrated(m) if ("migrated" in m.notes or "refused" in m.notes) else m.items
    cpu_ratio = m.cpu_ms_per_item / floor.cpu_ms_per_item if floor and floor.cpu_seconds else None
    rate_ratio = m.rate / floor.rate if floor and floor.rate else None
    return (f"| {m.name} | {m.items:,} | {_f(m.seconds)} | {_f(m.rate)} | {_f(m.cpu_ms_per_item, 3)} | "
            f"{_f(cpu_ratio, 2)} | {_f(rate_ratio, 2)} | {_f(m.non_scan_calls / n if n else None, 3)} | "
            f"{_ops(m.calls)} | {_mib(m.peak_rss_growth_kib)} |")


def _side_by_side(r: Results) -> list[str]:
    out = ["## Side by side: one run, identical data", ""]
    rows = [m for m in (r.baseline, r.floor, r.migrate, r.restore, r.bulk_restore, r.dump_tool, *r.backups)
            if m is not None]
    if not rows:
        return out + ["not measured: backfill", ""]
    out += ["| run | items | wall s | items/s | client CPU ms/item | CPU / floor | items/s / floor | "
            "requests/written item (excl. scan pages) | calls | peak RSS growth |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    floor = r.floor
    out += [_row(m, floor) for m in rows]
    out.append("")
    if len(r.floors) > 1:
        out += ["Floor by writer concurrency: " + ", ".join(
            f"{m.notes['threads']} -> {_f(m.rate)} events/s ({_f(m.cpu_ms_per_item, 3)} ms CPU/event)"
            for m in r.floors) + ".", ""]
    out += ["### Targets", ""]
    mg, b = r.migrate, r.baseline
    if len(r.cpu_pairs) > 1:
        ratios = [m.cpu_ms_per_item / f.cpu_ms_per_item for f, m in r.cpu_pairs]
        ratio = statistics.median(ratios)
        out.append(f"- migrate client CPU per event / floor, median of {len(ratios)} alternating pairs = **{ratio:.2f}** "
                   f"(pairs: {', '.join(f'{x:.3f}' for x in ratios)}; floor "
                   f"{', '.join(_f(f.cpu_ms_per_item, 3) for f, _ in r.cpu_pairs)} ms, migrate "
                   f"{', '.join(_f(m.cpu_ms_per_item, 3) for _, m in r.cpu_pairs)} ms; target <= {CPU_TARGET}: "
                   f"{'met' if ratio <= CPU_TARGET else 'MISSED'})")
    elif mg is not None and floor is not None:
        ratio = mg.cpu_ms_per_item / floor.cpu_ms_per_item
        out.append(f"- migrate client CPU per event / floor = **{ratio:.2f}** ({_f(mg.cpu_ms_per_item, 3)} vs "
                   f"{_f(floor.cpu_ms_per_item, 3)} ms; one pair; target <= {CPU_TARGET}: {'met' if ratio <= CPU_TARGET else 'MISSED'})")
    if mg is not None and floor is not None:
        out.append(f"- migrate throughput / floor = {mg.rate / floor.rate:.2f} (wall time, endpoint-bound on moto)")
    if r.restore is not None and floor is not None:
        ratio = r.restore.rate / floor.rate
        out.append(f"- in-place restore throughput / floor = **{ratio:.2f}** (target >= {RESTORE_TARGET}: "
                   f"{'met' if ratio >= RESTORE_TARGET else 'MISSED'})")
    if r.bulk_restore is not None and r.dump_tool is not None:
        tool = r.dump_tool
        exact = "every value arrived type-exact" if tool.notes.get("identical") else (
            f"{tool.notes.get('differing_items')} items arrived different")
        out.append(f"- bulk restore / dump tool (dynamodump, measured in this run: {tool.rate:,.0f} items/s, "
                   f"{_f(tool.cpu_ms_per_item, 3)} ms client CPU per item, {exact}) = **{r.bulk_restore.rate / tool.rate:.2f}x** "
                   f"items/s, {_f(r.bulk_restore.cpu_ms_per_item / tool.cpu_ms_per_item if tool.cpu_seconds else None, 2)}x CPU per item")
    if r.bulk_restore is not None:
        rate = r.bulk_restore.rate
        out.append(f"- bulk restore = **{rate:,.0f} items/s** (target >= {DUMP_TOOL_ITEMS_PER_S:,}, the issue's figure for a "
                   f"widely used dump tool on this endpoint, quoted: {'met' if rate >= DUMP_TOOL_ITEMS_PER_S else 'MISSED'}"
                   f", ratio {rate / DUMP_TOOL_ITEMS_PER_S:.2f})")
    if mg is not None:
        mg_non_scan = mg.non_scan_calls / max(1, migrated(mg))
        out.append(f"- requests per migrated event, excluding scan pages: **{mg_non_scan:.3f}** (target <= 1.05: "
                   f"{'met' if mg_non_scan <= 1.05 else 'MISSED'})")
        phases = mg.notes.get("phases", {})
        if phases:
            out.append("- migrate phases: " + ", ".join(f"{name} {_f(sec, 2)} s" for name, sec in phases.items()))
    if mg is not None and b is not None:
        b_total = b.total_calls / max(1, migrated(b))
        mg_total = mg.total_calls / max(1, migrated(mg))
        estimate = baseline_without_moto_query(b)
        spent = b.notes.get("seconds_in", {})
        out.append(f"- migrate / seed's algorithm = {mg.rate / b.rate:.1f}x events/s (request ratio {b_total:.2f}/{mg_total:.2f}); "
                   f"moto answers a Query by reading the whole participants table "
                   f"({_f(1000 * spent.get('Query', 0) / max(1, b.calls.get('Query', 0)))} ms per Query vs "
                   f"{_f(1000 * spent.get('PutItem', 0) / max(1, b.calls.get('PutItem', 0)))} ms per PutItem); at PutItem cost per "
                   f"Query the seed's algorithm would do about {_f(estimate)} events/s "
                   f"({'whole table' if b.notes.get('complete') else 'time-capped'}, {_f(b.seconds)} s)")
    out.append("")
    return out


def _scaling(r: Results) -> list[str]:
    out = ["## Migrate time vs size (participants = 5 x events)", ""]
    if not r.scaling:
        return out + ["not measured: scaling", ""]
    out += ["| events | s | ms per event | events/s | requests/event (total) |", "|---:|---:|---:|---:|---:|"]
    per_event = []
    for m in r.scaling:
        per_event.append(1000 * m.seconds / m.items)
        out.append(f"| {m.items:,} | {_f(m.seconds)} | {_f(per_event[-1], 2)} | {_f(m.rate)} | {_f(m.total_calls / m.items, 3)} |")
    spread = max(per_event) / min(per_event)
    out += ["", f"Largest / smallest time per event: {spread:.2f} ({'linear' if spread <= LINEAR_TOLERANCE else 'NOT linear'}"
            f" within {LINEAR_TOLERANCE}).", ""]
    return out


def _streams(r: Results) -> list[str]:
    out = ["## Stream path (real handlers, Lambda-shaped batches)", ""]
    if not r.streams:
        return out + ["not measured: stream path", ""]
    s = r.sizes
    out += [f"{s.stream_batches} steps x 100 records (about 20% old-shape event writes, half of them rewrites of "
            f"the target events; 80% participant joins/leaves), on {s.stream_events:,} events / "
            f"{s.stream_participants:,} participants. Each step's records go to the events handler and the "
            "participants handler as one batch each. Only handler time is measured.", "",
            "| workload | records | s | records/s | requests/record | participants handler: requests/participant record | count writes per touched event per batch | events handler: requests/event record | calls |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for m in r.streams:
        n = m.notes
        p_calls = n["participant_handler_calls"]
        p_total = sum(p_calls.values())
        e_total = m.total_calls - p_total
        writes = p_calls.get("UpdateItem", 0) / max(1, n["touched_event_batches"])
        out.append(f"| {m.name} | {m.items:,} | {_f(m.seconds)} | {_f(m.rate)} | {_f(m.total_calls / m.items, 3)} | "
                   f"{_f(p_total / max(1, n['participant_records']), 3)} | {_f(writes, 3)} | "
                   f"{_f(e_total / max(1, n['event_records']), 3)} | {_ops(m.calls)} |")
    out.append("")
    return out


def _stream_sizes(r: Results) -> list[str]:
    out = ["## Stream path cost per record by event size (participants handler)", ""]
    if not r.stream_sizes:
        return out + ["not measured: stream cost by event size", ""]
    s = r.sizes
    out += [f"{s.size_batches} batches x {s.size_records} joins of one event each. *Reported*: ConsumedCapacity the "
            "endpoint returned (moto returns fixed placeholders). *By DynamoDB's rules*: what AWS charges for the "
            "recount (consistent GetItem of the event + consistent COUNT Query over every participant row, per 1 MB "
            "page, + one conditional UpdateItem), from the rows' sizes.", "",
            "| participants | records | s | requests/record | client CPU ms/record | reported units/record | "
            "read units/record by the rules | write units/record by the rules | mean row bytes |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in r.stream_sizes:
        n = m.notes
        reported = sum(n["reported_units"].values()) / m.items
        out.append(f"| {n['participants']:,} | {m.items:,} | {_f(m.seconds)} | {_f(m.total_calls / m.items, 3)} | "
                   f"{_f(m.cpu_ms_per_item, 3)} | {_f(reported, 2)} | {_f(n['rules_read_units'] / m.items, 2)} | "
                   f"{_f(n['rules_write_units'] / m.items, 2)} | {_f(n['row_bytes_mean'])} |")
    out.append("")
    return out
