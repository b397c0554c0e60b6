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
    def from_dict(cls, data: dict[str, Any]) -> ControlRecord:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a control record (format {data.get('format')!r})")
        rate = data.get("rate")
        return cls(paused=bool(data.get("paused", False)), rate=None if rate is None else float(rate),
                   stop_seq=int(data.get("stop_seq", 0)), seq=int(data.get("seq", 0)),
                   updated_at=float(data.get("updated_at", 0.0)), by=str(data.get("by", "")))

    def changed(self, command: str, **fields: Any) -> ControlRecord:
        """The record after ``command`` (its fields set), numbered and stamped."""
        return replace(self, **fields, seq=self.seq + 1, updated_at=time.time(),
                       by=f"{socket.gethostname()}: {command}")


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
