"""``RUN.control.json``: how the operator wants run RUN to behave, in the run store beside the
run's backups, written by ``backfill control`` and read by every worker of the run about once a
second (a local directory or s3://, through the run store's interface).

Pause and the rate are states: a worker that starts (or restarts) later obeys them too. Stop is
an event: each stop raises ``stop_seq``; a worker stops when it sees a ``stop_seq`` higher than
the one it found when it started, so the command that continues a stopped run is not stopped
again by the old record. No clocks are compared across machines.
"""

from __future__ import annotations

import json
import math
import socket
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from backfill.run.backup import read_json, write_json
from backfill.run.names import CONTROL_SUFFIX as CONTROL_SUFFIX
from backfill.run.store import RunStore, StoreError

FORMAT = "dynamo-evolve-control"


@dataclass(frozen=True)
class ControlRecord:
    paused: bool = False
    rate: float | None = None  # the whole run's writes per second (0 = unlimited); None: each worker's own
    stop_seq: int = 0  # raised by each stop
    seq: int = 0  # raised by each command
    updated_at: float = 0.0
    by: str = ""  # host and command of the last change, for people

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Any) -> ControlRecord:
        """Raises ValueError naming the first field that is not what ``backfill control`` writes
        (a record edited by hand or by someone else is refused whole, never half obeyed)."""
        if not isinstance(data, dict):
            raise ValueError(f"not a control record: a JSON {type(data).__name__}, not an object")
        if data.get("format") != FORMAT:
            raise ValueError(f"not a control record (format {data.get('format')!r})")
        paused, rate = data.get("paused", False), data.get("rate")
        if not isinstance(paused, bool):
            raise ValueError(f"paused is {paused!r}, not true or false")
        if rate is not None and not (_number(rate) and math.isfinite(rate) and rate >= 0):
            raise ValueError(f"rate is {rate!r}, not a number of writes per second >= 0 (or null)")
        counters = {name: data.get(name, 0) for name in ("stop_seq", "seq")}
        for name, value in counters.items():
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise ValueError(f"{name} is {value!r}, not a whole number >= 0")
        updated_at, by = data.get("updated_at", 0.0), data.get("by", "")
        if not _number(updated_at) or not isinstance(by, str):
            raise ValueError(f"updated_at {updated_at!r} or by {by!r} is not what backfill control writes")
        return cls(paused=paused, rate=None if rate is None else float(rate), stop_seq=counters["stop_seq"],
                   seq=counters["seq"], updated_at=float(updated_at), by=by)

    def changed(self, command: str, **fields: Any) -> ControlRecord:
        """The record after ``command`` (its fields set), numbered and stamped."""
        return replace(self, **fields, seq=self.seq + 1, updated_at=time.time(),
                       by=f"{socket.gethostname()}: {command}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def control_name(run: str) -> str:
    return run + CONTROL_SUFFIX


def read_control(store: RunStore, run: str) -> ControlRecord:
    """The run's control record; the default (running, own rate) when nobody steered it yet.
    Raises StoreError when the store cannot be read or the record is damaged."""
    name = control_name(run)
    if not store.exists(name):
        return ControlRecord()
    try:
        return ControlRecord.from_dict(read_json(store, name))
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise StoreError(f"control record {store.uri(name)} is unreadable: {error}") from error


def write_control(store: RunStore, run: str, record: ControlRecord) -> None:
    write_json(store, control_name(run), record.to_dict())
