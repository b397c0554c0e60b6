"""What every measurement needs: an endpoint, fresh seeded tables, request counts, time, memory.

The endpoint is moto's server in a *separate process* by default, so the code under test and the
endpoint do not share one interpreter lock and the client's peak memory is the client's alone.
Every measurement starts from a reset endpoint with freshly seeded, identical tables.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3

from backfill.table.request_counter import RequestCounter
from chalicelib.aws import client
from chalicelib.config import Settings
from chalicelib.tables import create_tables
from localdev.endpoint import (
    MOTO,
    ExternalEndpoint,
    MotoEndpoint,
    check_choice,
    free_port,
    is_url,
    open_endpoint,
    stop_process,
)
from localdev.legacy_data import LegacyDataSet, load

logger = logging.getLogger(__name__)

# Local endpoints accept any credentials; set them so no real profile is ever looked up.
FAKE_CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
# Per-run reads, not per-event work: scan pages and the one DescribeTable a backup makes.
SCAN_OPERATIONS = frozenset({"Scan", "DescribeTable"})


class ServerProcess:
    """``moto_server`` in a child process on a free loopback port (same interface as MotoEndpoint)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        if self._process is not None and self._process.poll() is None:
            return self  # already running: ``with ServerProcess().start()`` must not start a second one
        executable = Path(sys.executable).parent / "moto_server"
        command = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
        self._process = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if self._process.poll() is not None:
                    raise RuntimeError("moto_server exited during start-up") from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto_server did not answer within 30 s")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=30).read()

    def stop(self) -> None:
        stop_process(self._process)

    def cpu_seconds(self) -> float:
        """CPU the server has used so far (all its threads): where a command's time goes when it is
        not the client's."""
        return process_cpu_seconds(self._process.pid) if self._process is not None else 0.0

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_endpoint(choice: str, in_process: bool = False) -> Any:
    """The endpoint to measure against (not started). moto runs in a child process unless
    ``in_process``; DynamoDB Local is always its own (Java) process; a URL must hold no tables,
    since every measurement drops them all."""
    if check_choice(choice) == MOTO:
        return MotoEndpoint() if in_process else ServerProcess()
    if is_url(choice):
        return _EmptyExternal(choice)
    return open_endpoint(choice)


class _EmptyExternal(ExternalEndpoint):
    def __enter__(self) -> ExternalEndpoint:
        return self.start(require_empty=True)


def bench_session(region: str) -> boto3.session.Session:
    return boto3.session.Session(region_name=region, **FAKE_CREDENTIALS)


def fresh_tables(endpoint: Any, settings: Settings, data: LegacyDataSet, *, writers: int = 4) -> None:
    """Reset the endpoint, create the tables and load ``data`` (not measured)."""
    endpoint.reset()
    session = bench_session(settings.region)
    dynamodb = client(session, "dynamodb", settings)
    create_tables(dynamodb, settings, client(session, "dynamodbstreams", settings))
    for table, rows in (
        (settings.table("events"), data.events),
        (settings.table("participants"), data.participants),
    ):
        chunks = [rows[i : i + 500] for i in range(0, len(rows), 500)]
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(lambda chunk, t=table: load(dynamodb, t, chunk), chunks))


# --- memory ----------------------------------------------------------------------------------

def status_kib(field_name: str, pid: int | str = "self") -> int:
    """A memory figure (VmRSS, VmHWM...) of process ``pid`` from /proc, in KiB; 0 when absent
    (a process that has exited has none)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            match = re.search(rf"^{field_name}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (every thread), from /proc/PID/stat; 0 when gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


def reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM (peak RSS) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# --- one measurement -------------------------------------------------------------------------

@dataclass
class Measurement:
    name: str
    items: int  # events migrated, records handled, items backed up...
    seconds: float
    calls: dict[str, int]
    sends: dict[str, int]
    peak_rss_growth_kib: int | None
    notes: dict[str, Any] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # this process's CPU (all threads) while measuring

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_item(self) -> float:
        return 1000 * self.cpu_seconds / self.items if self.items else float("nan")

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def non_scan_calls(self) -> int:
        return sum(n for op, n in self.calls.items() if op not in SCAN_OPERATIONS)

    def per_item(self, count: int) -> float:
        return count / self.items if self.items else float("nan")


class Stopwatch:
    """Measured wall time and process CPU time, minus what the body spends inside ``paused()``
    (e.g. preparing input). Process CPU counts every thread of this process and nothing of the
    endpoint, which runs in another process: it is the client's own cost."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._cpu_started = time.process_time()
        self._paused = 0.0
        self._cpu_paused = 0.0

    @contextmanager
    def paused(self) -> Iterator[None]:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - started
            self._cpu_paused += time.process_time() - cpu_started

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._started - self._paused

    @property
    def cpu(self) -> float:
        return time.process_time() - self._cpu_started - self._cpu_paused


# A measured body gets the counted session and the stopwatch, and returns the number of items
# it handled plus free-form notes.
Body = Callable[[boto3.session.Session, Stopwatch], "tuple[int, dict[str, Any]]"]


def measure(name: str, settings: Settings, body: Body) -> Measurement:
    """Run ``body`` with a fresh session whose every client is counted; time it and its memory.

    The counter hooks the session's event emitter before any client exists, so every client the
    body (or the code it calls) creates from that session is counted.
    """
    session = bench_session(settings.region)
    counter = RequestCounter().attach(SimpleNamespace(meta=SimpleNamespace(events=session.events)))
    tracked = reset_peak_rss()
    rss_before = status_kib("VmRSS")
    watch = Stopwatch()
    try:
        items, notes = body(session, watch)
    finally:
        seconds, cpu = watch.elapsed, watch.cpu
        counter.detach()
    growth = max(0, status_kib("VmHWM") - rss_before) if tracked else None
    # A body that runs the client in a child process (the dump tool) reports that child's CPU.
    cpu += float(notes.get("child_cpu_seconds", 0.0))
    result = Measurement(name, items, seconds, counter.calls(), counter.sends(), growth, notes, cpu)
    logger.info("%s: %d items in %.1f s (%.1f/s), client CPU %.3f ms/item, calls %s",
                name, items, seconds, result.rate, result.cpu_ms_per_item, result.calls)
    return result
