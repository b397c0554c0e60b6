"""A malformed control record (issue 32 finding 6): ``[]`` or a field of the wrong type is refused
whole, naming the file; a worker's steering thread logs it once and keeps obeying the last good
record (it used to die with AttributeError, so a later stop was never seen)."""

from __future__ import annotations

import logging
import threading

import pytest

from backfill.control.record import ControlRecord, read_control, write_control
from backfill.control.steering import Steering, Throttles
from backfill.control.worker import WorkerState
from backfill.migrate.ratelimit import RateLimiter
from backfill.run.store import LocalStore, StoreError

RUN = "r"


@pytest.mark.parametrize("text", ["[]", '"pause"', "1", '{"format": "dynamo-evolve-control", "paused": "false"}',
                                  '{"format": "dynamo-evolve-control", "rate": -1}',
                                  '{"format": "dynamo-evolve-control", "rate": "fast"}',
                                  '{"format": "dynamo-evolve-control", "stop_seq": 1.5}',
                                  '{"format": "dynamo-evolve-control", "seq": true}'])
def test_a_malformed_record_is_refused_naming_the_file(tmp_path, text):
    store = LocalStore(tmp_path)
    store.write_bytes(f"{RUN}.control.json", text.encode())
    with pytest.raises(StoreError, match=rf"control record {tmp_path}/{RUN}\.control\.json is unreadable"):
        read_control(store, RUN)


def test_what_control_writes_reads_back():
    record = ControlRecord(paused=True, rate=2.5, stop_seq=3, seq=4, updated_at=1.0, by="h: pause")
    assert ControlRecord.from_dict(record.to_dict()) == record


def test_the_last_good_record_stays_in_force_and_a_later_stop_is_obeyed(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr("backfill.control.steering.POLL_S", 0.01)
    store = LocalStore(tmp_path)
    write_control(store, RUN, ControlRecord().changed("pause", paused=True))
    steering = Steering(store, RUN, WorkerState(None, f"{RUN}-seg0of1"), Throttles(RateLimiter(0))).start(items=10, done=0)
    try:
        assert steering.paused
        polled = threading.Event()
        original = steering._read

        def read_and_signal():
            record = original()
            polled.set()
            return record

        def poll() -> None:
            """Wait for the thread's next read of the record (5 s: a guard against a hang)."""
            polled.clear()
            assert polled.wait(5)

        steering._read = read_and_signal  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="backfill.control.steering"):
            store.write_bytes(f"{RUN}.control.json", b"[]")
            for _ in range(5):  # several polls of the same damage
                poll()
        assert steering.paused and steering._thread is not None and steering._thread.is_alive()
        warnings = [r.getMessage() for r in caplog.records if "control record" in r.getMessage()]
        assert len(warnings) == 1 and "last good one stays in force" in warnings[0]
        # when a good record with a stop comes back, the thread (still alive) obeys it
        write_control(store, RUN, ControlRecord().changed("stop", paused=True, stop_seq=1))
        poll()
        poll()  # the read before this one was applied
        assert steering.stopping
    finally:
        steering.close()
