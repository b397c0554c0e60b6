"""``--max-capacity`` measured across every worker of a run: each worker publishes, in its
``*.worker.json``, the write units per second it consumed lately (from DynamoDB's
``ReturnConsumedCapacity``) and whether its share held it back; every few seconds each worker
reads the others' figures and takes as its share what they leave: the limit less what the
workers not held back use, split evenly among those that are (itself included). A worker that
has finished, failed or not started takes nothing; one bound by its own speed leaves the rest to
the others. A worker that joins announces itself and starts with what the others leave unused,
so the run does not go over the limit while they make room for it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from backfill.control.worker import WORKER_SUFFIX
from backfill.run.backup import read_json
from backfill.run.names import is_worker_of
from backfill.run.store import RunStore, StoreError

FLOOR = 0.05  # of the limit: a worker's share never drops to nothing on a stale measurement
STALE_S = 15.0  # a worker that has not published for this long is not writing (killed, or a long GC)
WRITING = ("running", "paused")


@dataclass(frozen=True, order=True)
class Peer:
    units_per_s: float  # consumed lately
    held: bool  # its share held it back lately (it would write faster)


def capacity_share(limit: float, peers: list[Peer]) -> float:
    """This worker's write units per second of the run's ``limit``, given the other workers."""
    left = limit - sum(peer.units_per_s for peer in peers if not peer.held)
    return max(FLOOR * limit, left / (1 + sum(peer.held for peer in peers)))


def spare_capacity(limit: float, peers: list[Peer]) -> float:
    """What a worker joining the run may use at once: what the others leave unused (at least
    the floor); its fair share follows once they have made room for it."""
    return max(FLOOR * limit, limit - sum(peer.units_per_s for peer in peers))


def peers_of(store: RunStore, run: str, me: str, *, now: float | None = None) -> list[Peer]:
    """The figures the other writing workers of ``run`` published (``me``: this worker's name)."""
    now = time.time() if now is None else now
    peers = []
    for name in store.names(WORKER_SUFFIX):
        stem = name.removesuffix(WORKER_SUFFIX)
        if stem == me or not is_worker_of(stem, run):
            continue
        fields = _read(store, name)
        capacity = (fields.get("live") or {}).get("capacity") if fields else None
        if not isinstance(capacity, dict) or fields is None or fields.get("state") not in WRITING:
            continue
        if now - float(fields.get("updated_at", 0) or 0) > STALE_S:
            continue
        peers.append(Peer(float(capacity.get("units_per_s") or 0.0), bool(capacity.get("held"))))
    return peers


def _read(store: RunStore, name: str) -> dict[str, Any] | None:
    try:
        data = read_json(store, name)
    except (StoreError, OSError, json.JSONDecodeError):
        return None  # a file being rewritten, or gone: the next round reads it
    return data if isinstance(data, dict) else None
