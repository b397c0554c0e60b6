"""``python -m bench.scale_out``: peak memory of migrate, verify and restore as the table grows, and
wall time and client CPU of ``migrate --processes N`` (1, 2, 4) against one endpoint.

Every command runs as its own ``python -m backfill`` process, exactly as an operator (or an array
job child) runs it; its peak resident memory is the ``VmHWM`` of that process (sampled from
/proc until it exits), so the figure is the CLI's alone, never the endpoint's (moto runs in another
process) nor this bench's. Throughput is events of the table / wall time of the one command, counting everything
its children do (participants count, backup, plan, writes, report); client CPU is the command's
and its children's (wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import FAKE_CREDENTIALS, ServerProcess, fresh_tables, status_kib
from chalicelib.config import Settings
from localdev.legacy_data import generate

REPO = Path(__file__).resolve().parents[1]


def _env(url: str, settings: Settings) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "AWS_ENDPOINT_URL": url, "AWS_REGION": settings.region,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "EVENTS_TABLE": settings.table("events"), "PARTICIPANTS_TABLE": settings.table("participants")}


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "backfill", *args], cwd=REPO, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, int, float]:
    """(exit code, peak RSS in KiB, CPU seconds) of a child started by ``_start``.

    Not wait4's ru_maxrss: Linux keeps the high-water mark of the memory a process had before
    exec, which for a spawned child is this (bench) process's, so every child reported at least
    this process's size (a 50k-event run showed 130.7 MiB for all three commands). VmHWM in
    /proc/PID/status is the high-water mark of the exec'd program alone; it is sampled until the
    child exits (a high-water mark, so a late sample holds every earlier peak)."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], status_kib("VmHWM", process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        code, cpu = _wait_cpu(process)
    finally:
        done.set()
        sampler.join()
    return code, peak[0], cpu


def _wait_cpu(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """(exit code, CPU seconds) of a child started by ``_start``: its own CPU and that of every
    descendant it waited for (``--processes``' children), as Linux's wait4 reports it."""
    assert process.stdout is not None
    process.stdout.read()  # drain --json output so the child never blocks on a full pipe
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _run(args: list[str], env: dict[str, str], endpoint: ServerProcess) -> dict[str, Any]:
    """One command: exit code, its peak memory, wall time, its own CPU and the endpoint's CPU
    meanwhile (on moto a paged scan walks the table from its start on every page, so the
    endpoint's share grows faster than the table; the client's should not)."""
    started, endpoint_started = time.monotonic(), endpoint.cpu_seconds()
    code, peak, cpu = _wait(_start(args, env))
    return {"exit": code, "peak_rss_mib": round(peak / 1024, 1), "seconds": round(time.monotonic() - started, 1),
            "client_cpu_s": round(cpu, 2), "endpoint_cpu_s": round(endpoint.cpu_seconds() - endpoint_started, 2)}


def memory(endpoint: ServerProcess, sizes: list[int], settings: Settings) -> list[dict[str, Any]]:
    rows = []
    for events in sizes:
        fresh_tables(endpoint, settings, generate(events=events, participants=2 * events, malformed=0))
        with tempfile.TemporaryDirectory() as store:
            env = _env(endpoint.url, settings)
            row: dict[str, Any] = {"events": events}
            for name, args in (
                ("migrate", ["migrate", "--yes", "--backup-dir", store, "--json"]),
                ("verify", ["verify", "--backup-dir", store, "--json"]),
                ("restore", ["restore", "--run", "_newest_", "--yes", "--backup-dir", store,
                             "--live-path-running", "--json"]),
            ):
                if name == "restore":
                    [manifest] = Path(store).glob("*.manifest.json")
                    args[2] = json.loads(manifest.read_text())["run"]
                row[name] = _run(args, env, endpoint)
            rows.append(row)
    return rows


def throughput(endpoint: ServerProcess, events: int, counts: list[int], settings: Settings,
               extra: list[str] | None = None) -> list[dict[str, Any]]:
    """``migrate --processes N`` (one command: counts, backups, plan, one confirmation, writes):
    wall time and the client CPU of the parent and its children together (the endpoint runs in
    another process)."""
    rows = []
    for workers in counts:
        fresh_tables(endpoint, settings, generate(events=events, participants=2 * events, malformed=0))
        with tempfile.TemporaryDirectory() as store:
            env = _env(endpoint.url, settings)
            started = time.monotonic()
            code, cpu = _wait_cpu(_start(["migrate", "--yes", "--backup-dir", store, "--run-id", f"tput{workers}",
                                              "--processes", str(workers), "--json", *(extra or [])], env))
            seconds = time.monotonic() - started
        rows.append({"processes": workers, "events": events, "exit_codes": [code], "seconds": round(seconds, 1),
                     "events_per_s": round(events / seconds, 1), "client_cpu_s": round(cpu, 1),
                     "client_cpu_ms_per_event": round(1000 * cpu / events, 2)})
    return rows


COMMANDS = ("migrate", "verify", "restore")


def render(memory_rows: list[dict[str, Any]], throughput_rows: list[dict[str, Any]], note: str) -> str:
    lines = ["# Scale-out benchmark (`python -m bench.scale_out`)", "", note]
    if memory_rows:
        lines += ["", "## Peak memory per command (VmHWM of the CLI process)", "",
                  "| events | " + " | ".join(f"{c} MiB" for c in COMMANDS) + " | exit codes |",
                  "|---:|---:|---:|---:|---|"]
        for row in memory_rows:
            lines.append(f"| {row['events']} | " + " | ".join(str(row[c]["peak_rss_mib"]) for c in COMMANDS)
                         + " | " + ",".join(str(row[c]["exit"]) for c in COMMANDS) + " |")
        lines += ["", "Time of the same commands: wall seconds, the command's own CPU (client) and the moto "
                  "server's CPU meanwhile (endpoint).", "",
                  "| events | command | seconds | client CPU s | client CPU ms/event | endpoint CPU s |",
                  "|---:|---|---:|---:|---:|---:|"]
        for row in memory_rows:
            for c in COMMANDS:
                figures = row[c]
                lines.append(f"| {row['events']} | {c} | {figures['seconds']} | {figures['client_cpu_s']} | "
                             f"{round(1000 * figures['client_cpu_s'] / row['events'], 2)} | {figures['endpoint_cpu_s']} |")
    if len(memory_rows) > 1:
        first, last = memory_rows[0], memory_rows[-1]
        ratios = {c: round(last[c]["peak_rss_mib"] / first[c]["peak_rss_mib"], 2) for c in COMMANDS}
        lines += ["", f"Ratio of peak memory {last['events']} / {first['events']} events: "
                  + ", ".join(f"{c} {r}x" for c, r in ratios.items()) + " (target: within 1.5x)."]
    if throughput_rows:
        lines += ["", "## `migrate --processes N`: one run, one endpoint", "",
                  "| processes | events | seconds | events/s | ratio to 1 | client CPU s | client CPU ms/event | exit code |",
                  "|---:|---:|---:|---:|---:|---:|---:|---|"]
        base = throughput_rows[0]["events_per_s"]
        for row in throughput_rows:
            lines.append(f"| {row['processes']} | {row['events']} | {row['seconds']} | {row['events_per_s']} | "
                         f"{round(row['events_per_s'] / base, 2)} | {row['client_cpu_s']} | "
                         f"{row['client_cpu_ms_per_event']} | {','.join(map(str, row['exit_codes']))} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__)
    parser.add_argument("--memory-sizes", default="5000,50000", help="comma-separated event counts ('' skips)")
    parser.add_argument("--throughput-events", type=int, default=5000)
    parser.add_argument("--processes", default="1,2,4", help="comma-separated worker process counts")
    parser.add_argument("--count-with", choices=("auto", "scan", "query"),
                        help="passed to migrate (default: the CLI's own default)")
    parser.add_argument("--note", default="", help="a line about the machine and load, kept in the results")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("scale_out.md"))
    args = parser.parse_args()
    settings = Settings(failures_table="failures",
                        region="us-east-1")
    load = os.getloadavg()
    note = (args.note + " " if args.note else "") + f"Load average at start: {load[0]:.1f}, cores: {os.cpu_count()}."
    with ServerProcess() as endpoint:
        settings = settings.with_overrides(endpoint_url=endpoint.url)
        memory_rows = memory(endpoint, [int(n) for n in args.memory_sizes.split(",") if n], settings)
        throughput_rows = throughput(endpoint, args.throughput_events, [int(n) for n in args.processes.split(",") if n],
                                     settings, ["--count-with", args.count_with] if args.count_with else [])
    text = render(memory_rows, throughput_rows, note)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)  # noqa: T201 - the benchmark's output


if __name__ == "__main__":
    main()
