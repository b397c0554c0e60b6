"""``backfill control RUN status|pause|resume|rate N|stop``: steer a running migration from
another terminal or machine, through the control record in its run store (``backfill.control``)."""

from __future__ import annotations

import time
from typing import Any

import click
from rich.table import Table

from backfill.cli.options import (
    FiniteFloat,
    backup_dir_option,
    json_option,
    require_own_store,
    store_encryption,
    store_encryption_options,
    store_endpoint_option,
)
from backfill.console import EXIT_OK, err, print_json
from backfill.control.record import ControlRecord, read_control, write_control
from backfill.control.steering import POLL_S
from backfill.errors import BadInput, Refused
from backfill.run.status import SegmentStatus, StatusError, run_status
from backfill.run.store import RunStore, open_store
from backfill.table.target import DEFAULT_CONNECT_TIMEOUT

ACTIONS = ("status", "pause", "resume", "rate", "stop")
ACK_TIMEOUT_S = 5 * POLL_S + 5  # the workers' promise (within 5 s) and a margin for a slow store


@click.command("control", short_help="Steer a running migration: status, pause, rate, stop.")
@click.argument("run", metavar="RUN")
@click.argument("action", type=click.Choice(ACTIONS))
@click.argument("value", metavar="[N]", required=False, type=FiniteFloat(min=0))
@click.option("--no-wait", is_flag=True, help="Do not wait for the running workers to acknowledge the command.")
@click.option("--total-segments", type=click.IntRange(min=1),
              help="The run's split (the workers' --total-segments): lists segments whose workers have not "
                   "written anything yet, and lets pause and rate be set before any worker starts.")
@backup_dir_option
@store_encryption_options
@store_endpoint_option
@json_option
def command(run: str, action: str, value: float | None, no_wait: bool, total_segments: int | None, backup_dir: str,
            endpoint_url: str | None, as_json: bool, **encryption: str | None) -> None:
    """Steer run RUN (the workers' --run-id, or an unnamed run's id) while it writes.

    \b
    status   every segment (from the run store alone): state (pending, backing up, prepared, running,
             paused, stopped, done, done with problems, failed, interrupted), progress, rate,
             ETA, consumed write units, throttled requests, rate limit, last error and the age
             of its last checkpoint (a killed worker shows as running with an old checkpoint:
             start it again with the same flags and it resumes); a terminal narrower than 150
             columns shows the steering columns only, --json everything
    pause    writers wait before their next write (the backup/plan phase is not paused)
    resume   writers go on
    rate N   the whole run writes at most N items per second, shared among its workers by their
             segments (0 = unlimited); replaces each worker's --rate-limit
    stop     each worker finishes the writes in flight, saves its checkpoint, prints the command
             that continues the run and exits 130

    Every worker polls the control record in --backup-dir about once a second and obeys within
    5 seconds; pause and rate also hold for a worker that starts later. This command waits until
    the running workers acknowledge (--no-wait: it does not). Exit codes: 0 done; 2 no such run in
    the store, or a bad N; 3 the run is finished (nothing to steer; status still works); 4 the
    store cannot be reached."""
    if (action == "rate") != (value is not None):
        raise click.UsageError("rate takes N, the whole run's writes per second (0 = unlimited)" if action == "rate"
                               else f"{action} takes no value")
    require_own_store(backup_dir)
    store = open_store(backup_dir, endpoint_url=endpoint_url, connect_timeout=DEFAULT_CONNECT_TIMEOUT,
                       encryption=store_encryption({**encryption, "backup_dir": backup_dir}))
    segments = _segments(store, run, total_segments)
    record = read_control(store, run)
    if action == "status":
        _show(run, backup_dir, record, segments, as_json)
        raise SystemExit(EXIT_OK)
    if all(s.finished for s in segments):
        raise Refused(f"run {run!r} is finished (every segment done): there is nothing to {action}",
                      hint=f"`backfill control {run} status --backup-dir {backup_dir}` shows it")
    changed = _change(record, action, value)
    write_control(store, run, changed)
    err.print(f"Run {run}: {_describe(changed)} (command {changed.seq}).")
    waiting = [s for s in segments if s.state in ("running", "paused")]
    if not no_wait and waiting:
        late = _await(store, run, changed.seq, [s.segment for s in waiting])
        if late:
            err.print(f"[yellow]Not acknowledged within {ACK_TIMEOUT_S:.0f} s by segment(s) {late}[/]: their "
                      "workers may have ended or be writing to another store; `status` shows them.")
        else:
            err.print(f"Acknowledged by every running worker (segments {[s.segment for s in waiting]}).")
    if action == "stop":
        err.print("Each worker saves its checkpoint and prints the command that continues the run.")
    if as_json:
        print_json(changed.to_dict())
    raise SystemExit(EXIT_OK)


def _segments(store: RunStore, run: str, total_segments: int | None = None) -> list[SegmentStatus]:
    try:
        return run_status(store, run, total_segments=total_segments)
    except StatusError as error:
        raise BadInput(f"no run {run!r} in {store.location}: {error}",
                       hint="give the run's --backup-dir (and --endpoint-url for s3://); `backfill backups` lists runs") \
            from error


def _change(record: ControlRecord, action: str, value: float | None) -> ControlRecord:
    if action == "pause":
        return record.changed("pause", paused=True)
    if action == "resume":
        return record.changed("resume", paused=False)
    if action == "rate":
        return record.changed(f"rate {value:g}", rate=value)
    return record.changed("stop", stop_seq=record.stop_seq + 1)


def _describe(record: ControlRecord) -> str:
    rate = "each worker's own rate" if record.rate is None else (
        "unlimited rate" if record.rate == 0 else f"at most {record.rate:g} writes/s in all")
    return f"{'paused' if record.paused else 'running'}, {rate}"


def _await(store: RunStore, run: str, seq: int, segments: list[int]) -> list[int]:
    """Segments whose worker has not yet published having seen command ``seq`` (after the timeout)."""
    deadline = time.monotonic() + ACK_TIMEOUT_S
    while True:
        late = [s.segment for s in _segments(store, run) if s.segment in segments and not _acknowledged(s, seq)]
        if not late or time.monotonic() > deadline:
            return late
        time.sleep(POLL_S / 2)


def _acknowledged(segment: SegmentStatus, seq: int) -> bool:
    live = segment.live or {}
    return int(live.get("control_seq", -1)) >= seq or segment.state not in ("running", "paused")


def _show(run: str, backup_dir: str, record: ControlRecord, segments: list[SegmentStatus], as_json: bool) -> None:
    if as_json:
        print_json({"run": run, "finished": all(s.finished for s in segments), "control": record.to_dict(),
                    "segments": [s.to_json() for s in segments]})
        return
    table = Table(title=f"run {run} in {backup_dir}: {_describe(record)}", title_justify="left")
    rows = [_row(s) for s in segments]
    # A narrow terminal gets the columns an operator steers by; --json (or a wide one) has them all.
    columns = [c for c in rows[0] if c in NARROW_COLUMNS] if err.width < WIDE_TERMINAL else list(rows[0])
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    err.print(table)


NARROW_COLUMNS = ("segment", "state", "done/items", "items/s", "ETA", "rate limit", "last error or note")
WIDE_TERMINAL = 150


def _row(s: SegmentStatus) -> dict[str, str]:
    live: dict[str, Any] = s.live or {}
    return {
        "segment": str(s.segment), "state": s.state, "done/items": f"{_or_dash(s.done)}/{_or_dash(s.items)}",
        "items/s": _or_dash(live.get("items_per_s", s.rate)), "ETA": _eta(s, live),
        "write units": _or_dash(live.get("write_units")), "units/s": _or_dash(live.get("write_units_per_s")),
        "throttled": _or_dash(live.get("throttled")), "rate limit": _rate(live.get("rate_limit")),
        "checkpoint age": f"{s.checkpoint_age_s}s" if s.checkpoint_age_s is not None else "-",
        "last error or note": str(live.get("last_error") or s.detail or "-"), "host": s.host or "-",
    }


def _eta(segment: SegmentStatus, live: dict[str, Any]) -> str:
    if segment.state == "paused":
        return "paused"
    return f"{live['eta_s']:.0f}s" if live.get("eta_s") is not None else "-"


def _rate(limit: Any) -> str:
    return "-" if limit is None else ("unlimited" if float(limit) <= 0 else f"{float(limit):g}/s")


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)
