"""How a worker obeys ``backfill control``: a thread polls the run's control record (about once a
second) and publishes the worker's figures; the writers call ``pace()`` before every write,
which waits while the run is paused, keeps the (possibly changed) rate and raises ``Stopped``
once the run is told to stop. Every worker obeys within ``POLL_S`` plus one write."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from backfill.control.meter import CapacityMeter
from backfill.control.record import ControlRecord, read_control
from backfill.control.share import capacity_share, peers_of, spare_capacity
from backfill.control.throttle import CapacityGovernor, LagWatch
from backfill.control.worker import WorkerState
from backfill.run.store import RunStore, StoreError

log = logging.getLogger(__name__)

POLL_S = 1.0
PUBLISH_S = 2.0


class Limiter(Protocol):
    rate: float

    def acquire(self) -> None: ...

    def set_rate(self, rate: float) -> None: ...


@dataclass
class Throttles:
    """What paces one worker's writes: items per second (``limiter``, its ``share`` of the run's
    rate), write units per second and the back-off (``governor``, fed by ``meter``), the live
    path's lag (``lag``). ``run_capacity``: the whole run's write units per second (0: none),
    which the governor's share follows as measured across the workers (``backfill.control.share``)."""

    limiter: Limiter
    share: float = 1.0
    governor: CapacityGovernor = field(default_factory=CapacityGovernor)
    meter: CapacityMeter = field(default_factory=CapacityMeter)
    lag: LagWatch | None = None
    run_capacity: float = 0.0


class Stopped(BaseException):  # noqa: N818 - not an error: the operator asked the run to stop
    """Raised by ``pace()`` in a writer once the run is told to stop: the item it was about to
    write is left unwritten and unrecorded (a BaseException: the per-item error handling, which
    records failures, must let it through)."""


class Steering:
    """One worker's side of the control record. ``share``: the part of the whole run's rate that
    is this worker's (its segments / the run's segments)."""

    def __init__(self, store: RunStore | None, run: str | None, worker: WorkerState, throttles: Throttles, *,
                 on_pause: Callable[[bool, ControlRecord], bool] | None = None) -> None:
        """``on_pause(paused, record)`` runs when the run is paused or resumed (the hooks); False
        from it stops the run."""
        self.store, self.run, self.worker, self.share = store, run, worker, throttles.share
        self.meter, self.governor, self.lag = throttles.meter, throttles.governor, throttles.lag
        self.limiter = throttles.limiter
        self.run_capacity = throttles.run_capacity
        self._window = (time.monotonic(), 0.0, 0)  # (when, units, held waits) at the last publish
        self.capacity: dict[str, Any] = {"units_per_s": 0.0, "held": False}
        self.own_rate = self.limiter.rate  # the worker's --rate-limit, until the operator sets the run's
        self._told = ""  # the last problem logged (not repeated while it lasts)
        self.record = self._read() or ControlRecord()
        self._stop_seq_at_start = self.record.stop_seq
        self._resume = threading.Event()
        self._resume.set()
        self.on_pause = on_pause
        self._stop = threading.Event()
        self._quit = threading.Event()
        self._lock = threading.Lock()
        self.items = 0  # this worker's items, and how many were finished before this attempt
        self.done = 0
        self._done_at_start = 0
        self._started = time.monotonic()
        self.last_error = ""
        self._thread: threading.Thread | None = None
        self._apply(self.record)

    # --- the writers' side ------------------------------------------------------------------

    def pace(self) -> None:
        """Before every write: wait while paused, raise ``Stopped`` when stopping, keep the rate."""
        while not self._resume.is_set():
            if self._stop.is_set():
                raise Stopped
            self._resume.wait(0.2)
        if self._stop.is_set():
            raise Stopped
        self.limiter.acquire()
        self.governor.wait(stopping=self._stop.is_set)
        if self._stop.is_set():
            raise Stopped

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def finished(self, n: int) -> None:
        with self._lock:
            self.done += n

    def failed(self, reason: str) -> None:
        self.last_error = reason

    # --- the polling thread -----------------------------------------------------------------

    def start(self, *, items: int, done: int) -> Steering:
        self.items, self.done, self._done_at_start = items, done, done
        self._started = time.monotonic()
        if self.store is not None and self.run is not None:
            self._join_capacity()
            self._thread = threading.Thread(target=self._loop, name="steering", daemon=True)
            self._thread.start()
        return self

    def _join_capacity(self) -> None:
        """Under --max-capacity, before the first write: start with the share of its segments
        or what the others leave unused now, whichever is less (workers starting together then
        stay within the limit), and announce this worker (as held, using nothing yet) so that
        the others make room for it when they next read the figures."""
        if self.run_capacity <= 0 or self.store is None or self.run is None:
            return
        try:
            peers = peers_of(self.store, self.run, self.worker.name)
        except StoreError:
            peers = []
        self.governor.set_rate(min(self.governor.units_per_s, spare_capacity(self.run_capacity, peers)))
        self.capacity = {"units_per_s": 0.0, "held": True}
        self.worker.save(None, live=self.figures())
        self._window = (time.monotonic(), *self._window[1:])

    def close(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.publish()

    def _loop(self) -> None:
        published = 0.0
        while not self._quit.wait(POLL_S):
            try:
                record = self._read()
                if record is not None and record != self.record:
                    self._apply(record)
                    published = 0.0  # a change shows at once
                if time.monotonic() - published >= PUBLISH_S:
                    self.publish()
                    published = time.monotonic()
                    self._share_capacity()
            except Exception as error:  # noqa: BLE001 - the run must stay steerable: told once, then retried
                self._tell_once(f"steering: {type(error).__name__}: {error}")

    def _read(self) -> ControlRecord | None:
        if self.store is None or self.run is None:
            return None
        try:
            record = read_control(self.store, self.run)
        except StoreError as error:  # keep obeying the last good record; the run's own writes report the store
            self._tell_once(f"cannot read the control record: {error}; the last good one stays in force")
            return None
        self._told = ""
        return record

    def _tell_once(self, message: str) -> None:
        """One log line per distinct problem (the record is polled every second)."""
        if message != self._told:
            log.warning("%s", message)
            self._told = message

    def _share_capacity(self) -> None:
        """Take this worker's share of --max-capacity from what the other workers published."""
        if self.run_capacity <= 0 or self.store is None or self.run is None:
            return
        try:
            peers = peers_of(self.store, self.run, self.worker.name)
        except StoreError as error:  # keep the last share; the run's own writes report the store
            log.warning("cannot read the other workers' capacity: %s", error)
            return
        self.governor.set_rate(capacity_share(self.run_capacity, peers))

    def _apply(self, record: ControlRecord) -> None:
        before = self.record
        self.record = record
        rate = self.own_rate if record.rate is None else record.rate * self.share
        if rate != self.limiter.rate:
            self.limiter.set_rate(rate)
        was_paused = self.paused
        if record.paused:
            self._resume.clear()
        else:
            self._resume.set()
        if record.stop_seq > self._stop_seq_at_start:
            self._stop.set()
        if record.paused != was_paused and self.on_pause is not None and not self.on_pause(record.paused, record):
            self._stop.set()  # a failing pause/resume hook with --hook-fails-run
        if record != before:
            log.info("control: %s (paused=%s, rate=%s)", record.by, record.paused, rate or "unlimited")

    # --- what the worker publishes ----------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        with self._lock:
            done = self.done
        elapsed = max(1e-6, time.monotonic() - self._started)
        rate = (done - self._done_at_start) / elapsed
        remaining = max(0, self.items - done)
        units, throttled = self.meter.figures()
        return {
            "items": self.items, "done": done, "items_per_s": round(rate, 2),
            "eta_s": round(remaining / rate, 1) if rate > 0 and not self.paused else None,  # paused: no end in sight
            "write_units": round(units, 1), "write_units_per_s": round(units / elapsed, 2),
            "throttled": throttled, "last_error": self.last_error, "paused": self.paused,
            "stopping": self.stopping, "rate_limit": self.limiter.rate, "control_seq": self.record.seq,
            "capacity_limit": self.governor.units_per_s or None, "held_by_lag": self.governor.lagging,
            "iterator_age_s": self.lag.age_s if self.lag is not None else None,
            "capacity": self.capacity,
        }

    def _measure(self) -> None:
        """Write units per second since the last publish, and whether the share held writes back."""
        now = time.monotonic()
        units, _ = self.meter.figures()
        held = self.governor.held
        since, units_before, held_before = self._window
        if now - since > 0.2:  # (a publish right after another measures nothing new)
            self.capacity = {"units_per_s": round((units - units_before) / (now - since), 2),
                             "held": held > held_before}
            self._window = (now, units, held)

    def publish(self) -> None:
        self._measure()
        self.worker.save(None, live=self.figures())
