"""``RUN-segKofN.worker.json``: what one worker of a run is doing, for ``backfill control RUN
status``. A worker rewrites it on each change of state and, while it
writes, every few seconds with its live figures (progress, rate, capacity, throttles, paused).
A SIGKILLed worker stays "running"; the age of ``updated_at`` tells it stopped."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

from backfill.run.backup import write_json
from backfill.run.names import WORKER_SUFFIX as WORKER_SUFFIX
from backfill.run.store import RunStore, StoreError

log = logging.getLogger(__name__)


class WorkerState:
    def __init__(self, store: RunStore | None, name: str) -> None:
        self.store, self.name = store, name
        self.fields: dict[str, Any] = {}
        self._lock = threading.Lock()  # the steering thread publishes beside the main thread

    def save(self, state: str | None = None, **fields: Any) -> None:
        """Record ``state`` (None: keep the current one) and ``fields``; never raises."""
        if self.store is None:
            return
        with self._lock:
            if state is not None:
                self.fields["state"] = state
            self.fields.update(fields, updated_at=time.time(), host=socket.gethostname())
            self.fields.setdefault("started_at", self.fields["updated_at"])
            payload = dict(self.fields)
            try:
                write_json(self.store, self.name + WORKER_SUFFIX, payload)
            except StoreError as error:  # the status is for people; the run itself goes on
                log.warning("could not save the worker state: %s", error)
