"""Where every segment of a named run stands, read from the run store alone (no table access):
the workers' state files, the backups' manifests, the checkpoints and the reports."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from backfill.run.backup import read_json
from backfill.run.names import (
    CHECKPOINT_SUFFIX,
    MANIFEST_SUFFIX,
    REPORT_SUFFIX,
    SEGMENT_NAME,
    WORKER_SUFFIX,
)
from backfill.run.store import RunStore, StoreError


@dataclass(frozen=True)
class SegmentStatus:
    segment: int
    state: str  # pending | backing up | prepared | running | paused | stopped | done | done with problems | failed | interrupted
    items: int | None = None  # in the segment's backup
    done: int | None = None  # finished items (checkpointed)
    rate: float | None = None  # items per second since the worker started
    checkpoint_age_s: float | None = None
    host: str | None = None
    detail: str = ""
    live: dict[str, Any] | None = None  # what the worker published while writing (backfill.control.steering)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "done with problems")

    def to_json(self) -> dict[str, Any]:
        return {
            "segment": self.segment, "state": self.state, "items": self.items, "done": self.done,
            "rate_per_s": self.rate, "checkpoint_age_s": self.checkpoint_age_s, "host": self.host,
            "detail": self.detail, "live": self.live,
        }


class StatusError(Exception):
    """Nothing of the run is in the store."""


def run_status(store: RunStore, run: str, *, total_segments: int | None = None,
               now: float | None = None) -> list[SegmentStatus]:
    """One line per segment 0..N-1 (N from the run's files, or ``total_segments`` before any worker started)."""
    now = time.time() if now is None else now
    workers: dict[int, tuple[str, int]] = {}  # segment -> (backup id, total)
    for name in store.names(WORKER_SUFFIX) + store.names(MANIFEST_SUFFIX):
        stem = name.removesuffix(WORKER_SUFFIX).removesuffix(MANIFEST_SUFFIX)
        if stem == run:
            workers[0] = (stem, 1)
            continue
        match = SEGMENT_NAME.search(stem)
        if match is None or stem[: match.start()] != run:
            continue
        for segment in match["segments"].split("_"):
            workers[int(segment)] = (stem, int(match["total"]))
    totals = {total for _stem, total in workers.values()}
    if total_segments is not None:
        totals.add(total_segments)
    if not totals:
        raise StatusError(f"no worker of run {run!r} has written to {store.location} yet "
                          "(give --total-segments to list its pending segments)")
    if len(totals) > 1:
        raise StatusError(f"run {run!r} in {store.location} mixes splits into {sorted(totals)} segments")
    total = totals.pop()
    return [_segment_status(store, k, workers.get(k, ("", total))[0], now) for k in range(total)]


def _segment_status(store: RunStore, segment: int, stem: str, now: float) -> SegmentStatus:
    if not stem:
        return SegmentStatus(segment, "pending")
    worker = _read(store, stem + WORKER_SUFFIX) or {}
    manifest = _read(store, stem + MANIFEST_SUFFIX)
    checkpoint = _read(store, stem + CHECKPOINT_SUFFIX)
    report = _read(store, stem + REPORT_SUFFIX)
    host = worker.get("host")
    items = int(manifest["item_count"]) if manifest else None
    done = sum(int(p["done"]) for p in checkpoint["segments"].values()) if checkpoint else None
    saved_at = float(checkpoint.get("saved_at", 0)) if checkpoint else 0.0
    age = round(now - saved_at, 1) if saved_at else None
    started_at = float(worker.get("started_at", 0) or 0)
    rate = round(done / (saved_at - started_at), 1) if done and saved_at > started_at > 0 else None
    state = str(worker.get("state", "running"))
    live = worker.get("live") if isinstance(worker.get("live"), dict) else None
    if state in ("failed", "interrupted"):
        return SegmentStatus(segment, state, items, done, rate, age, host, str(worker.get("error", "")), live)
    if state == "stopped":
        return SegmentStatus(segment, state, items, done, rate, age, host,
                             "stopped by `backfill control`: a restart with the same flags continues it", live)
    if checkpoint and checkpoint.get("completed"):
        problems = report.get("exit_code", 0) if report else 0
        detail = f"{report.get('migrated')} migrated" if report else ""
        return SegmentStatus(segment, "done with problems" if problems else "done", items, done, rate, age, host,
                             detail, live)
    if manifest is None:
        return SegmentStatus(segment, "backing up", host=host)
    if state == "prepared":  # --processes: backed up and planned, writes wait for the confirmation
        return SegmentStatus(segment, "prepared", items, done, rate, age, host, "backed up and planned")
    if live is not None and live.get("done") is not None:  # fresher than the last checkpoint
        done = max(done or 0, int(live["done"]))
    paused = bool(live and live.get("paused"))
    return SegmentStatus(segment, "paused" if paused else "running", items, done, rate, age, host,
                         "a restart with the same flags resumes it" if age and age > 120 and not paused else "", live)


def _read(store: RunStore, name: str) -> dict[str, Any] | None:
    try:
        return read_json(store, name) if store.exists(name) else None
    except (StoreError, OSError, json.JSONDecodeError):
        return None
