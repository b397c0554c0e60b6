"""Turn a suite's measurements into the printed summary and ``bench/results.md``."""

from __future__ import annotations

import math
import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

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


def render(results: Results, endpoint_kind: str) -> str:
    lines: list[str] = ["# Benchmark results", ""]
    info = machine()
    info["endpoint"] = endpoint_kind
    lines += [f"- **{k}**: {v}" for k, v in info.items()]
    s = results.sizes
    lines += [f"- **data**: {s.events:,} legacy events ({s.malformed} malformed) and {s.participants:,} participants"
              " (deterministic seed), identical for every backfill measurement", ""]
    lines += _backfill(results) + _scaling(results) + _streams(results) + _backups(results)
    if results.not_measured:
        lines += ["## Not measured", ""] + [f"- not measured: {reason}" for reason in results.not_measured] + [""]
    return "\n".join(lines)


def _backfill(r: Results) -> list[str]:
    out = ["## Backfill: three ways on identical data", ""]
    rows = [m for m in (r.baseline, r.migrate, r.best_ceiling) if m is not None]
    if not rows:
        return out + ["not measured: backfill", ""]
    out += ["| run | events | s | events/s | requests/migrated event (excl. scan pages) | requests/migrated event (total) | calls | peak RSS growth |",
            "|---|---:|---:|---:|---:|---:|---|---:|"]
    for m in rows:
        n = migrated(m)
        out.append(f"| {m.name} | {m.items:,} | {_f(m.seconds)} | {_f(m.rate)} | {_f(m.per_item(0) if not n else m.non_scan_calls / n, 3)} "
                   f"| {_f(m.total_calls / n if n else None, 3)} | {_ops(m.calls)} | {_mib(m.peak_rss_growth_kib)} |")
    out.append("")
    if r.ceilings:
        out += ["Ceiling by writer concurrency: " + ", ".join(
            f"{m.notes['threads']} -> {_f(m.rate)} events/s" for m in r.ceilings) + ".", ""]
    b, mg, c = r.baseline, r.migrate, r.best_ceiling
    if mg is None:
        out += ["not measured: backfill migrate not landed", ""]
        return out
    out.append("### Ratios and targets")
    out.append("")
    mg_total = mg.total_calls / max(1, migrated(mg))
    mg_non_scan = mg.non_scan_calls / max(1, migrated(mg))
    if c is not None:
        ratio = mg.rate / c.rate
        out.append(f"- migrate / ceiling = **{ratio:.2f}** (target >= 0.90: {'met' if ratio >= 0.9 else 'MISSED'})")
    if b is not None:
        ratio = mg.rate / b.rate
        b_total = b.total_calls / max(1, migrated(b))
        needed = b_total / mg_total
        out.append(f"- migrate / baseline = **{ratio:.1f}x** (target: >= request ratio {b_total:.2f}/{mg_total:.2f} = "
                   f"{needed:.2f}x: {'met' if ratio >= needed else 'MISSED'})")
        estimate = baseline_without_moto_query(b)
        spent = b.notes.get("seconds_in", {})
        out.append(f"- moto inflates the baseline's Query: moto server answers a Query by reading the whole participants "
                   f"table ({_f(1000 * spent.get('Query', 0) / max(1, b.calls.get('Query', 0)))} ms per Query here vs "
                   f"{_f(1000 * spent.get('PutItem', 0) / max(1, b.calls.get('PutItem', 0)))} ms per PutItem). "
                   f"If a Query cost what a PutItem costs (closer to AWS), the baseline would do about "
                   f"{_f(estimate)} events/s, and migrate / baseline would be about {_f(mg.rate / estimate if estimate else None, 2)}x. "
                   f"The baseline ran {_f(b.seconds)} s ({'whole table' if b.notes.get('complete') else 'time-capped'}).")
    out.append(f"- requests per migrated event, excluding scan pages: **{mg_non_scan:.3f}** (target <= 1.05: "
               f"{'met' if mg_non_scan <= 1.05 else 'MISSED'}); total incl. scan pages {mg_total:.3f}; "
               f"the seed's algorithm: {(b.non_scan_calls / max(1, migrated(b))) if b else float('nan'):.3f} excl. scans")
    out.append(f"- migrate peak memory growth: {_mib(mg.peak_rss_growth_kib)} (RSS high-water mark minus RSS at start)")
    phases = mg.notes.get("phases", {})
    if phases:
        out.append("- migrate phases: " + ", ".join(f"{name} {_f(sec, 2)} s" for name, sec in phases.items()))
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


def _backups(r: Results) -> list[str]:
    out = ["## Backup and restore", ""]
    rows: list[Any] = [*r.backups, *([r.restore] if r.restore else [])]
    if not rows:
        return out + ["not measured: backup/restore", ""]
    out += ["| step | items | s | items/s | notes |", "|---|---:|---:|---:|---|"]
    for m in rows:
        note = m.notes.get("outcomes") or f"{m.notes.get('segments')} segments, {m.notes.get('bytes', 0):,} bytes gz"
        out.append(f"| {m.name} | {m.items:,} | {_f(m.seconds)} | {_f(m.rate)} | {note} |")
    out += ["", "For reference, a widely used dump tool backs up about 2,000 items/s on this kind of endpoint.", ""]
    return out
