"""Run the test suite as parallel pytest processes ("lanes"): `make test` and `make integration`.

One lane for lint (with --lint: ruff, mypy and the docs build beside the tests rather than
before them), one for the unit tests (with --unit), one for the integration tests that start servers of
their own (``-m "not per_endpoint"``), and per endpoint ``--shards`` lanes that share its
generated tests by file (balanced by the files' measured durations; each lane starts the
endpoint once). The integration lanes wait on servers and child processes about half the time, so two
per endpoint keep a 2-core machine busy. The moto lanes also run the moto-only tests. Each lane
writes to .test-logs/<lane>.log, printed whole when the lane ends, so outputs never interleave;
every log ends with its slowest tests (--durations). The run fails when any lane fails,
including a lane that collected no tests (pytest's exit 5).

``--sample localstack`` (what ``make test`` says) gives an endpoint one lane that runs only its
sample of the files (SAMPLE below) instead of its shards of them all: LocalStack costs several
times moto's CPU per test, and `make test` has 10 minutes on 2 cores. ``make integration`` runs
every endpoint in full.

    python -m tests.lanes [--lint] [--unit] [--endpoints moto,dynamodb-local,localstack] [--shards 2]
                          [--sample localstack] [-- PYTEST_ARGS...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LOGS = Path(".test-logs")
# -rfEs: the summary names failures, errors and skips only; --durations: every log names its slowest tests.
PYTEST = [sys.executable, "-m", "pytest", "-q", "-rfEs", "--durations=25"]
INTEGRATION_PATHS = ["tests/integration", "examples"]
# pytest's exit codes worth a word (https://docs.pytest.org/en/stable/reference/exit-codes.html)
EXIT_MEANING = {1: "tests failed", 2: "interrupted", 3: "internal error", 4: "usage error",
                5: "no tests collected"}


@dataclass
class Lane:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return LOGS / f"{self.name}.log"


# Seconds each integration test file took on both engines together (the lanes' logs with
# `python -m tests.lanes --lint --unit -- --durations=0`, 2026-12-04, all seven lanes side by side);
# a file under 10 s counts DEFAULT_S. Only the shards' balance depends on these: refresh them
# from the lanes' logs when a file gets much slower.
MEASURED_S = {
    "tests/integration/test_control.py": 196,
    "tests/integration/test_migrate_processes.py": 153,
    "tests/integration/test_live_legacy_writers.py": 152,
    "tests/integration/faults/test_live_concurrency.py": 115,
    "tests/integration/test_restore_memory.py": 100,
    "tests/integration/cli/test_endpoint_errors.py": 89,
    "tests/integration/faults/test_throttling.py": 88,
    "tests/integration/faults/test_stream_delivery.py": 85,
    "examples/rename/test_rename_writers.py": 78,
    "tests/integration/test_verify.py": 77,
    "tests/integration/test_dynamodb_values.py": 70,
    "tests/integration/test_restore.py": 68,
    "tests/integration/cli/test_pitr.py": 60,
    "tests/integration/test_count_methods.py": 58,
    "tests/integration/faults/test_poison_records.py": 56,
    "tests/integration/test_migrate.py": 55,
    "tests/integration/test_restore_bulk.py": 54,
    "tests/integration/test_hooks.py": 54,
    "tests/integration/faults/test_backfill_killed.py": 51,
    "tests/integration/test_migrate_resume.py": 50,
    "tests/integration/test_throttle_by_table.py": 42,
    "tests/integration/test_mirror_stateful.py": 40,
    "tests/integration/cli/test_ungrouped_source.py": 40,
    "tests/integration/test_unclear_writes.py": 36,
    "tests/integration/test_split_runs.py": 36,
    "tests/integration/cli/test_mistakes.py": 29,
    "tests/integration/cli/test_local_files.py": 29,
    "tests/integration/cli/test_refuse_and_interrupt.py": 28,
    "tests/integration/test_demo.py": 27,
    "examples/rename/test_rename.py": 27,
    "tests/integration/cli/test_no_values_in_output.py": 27,
    "tests/integration/test_restore_undoes_the_migration.py": 26,
    "tests/integration/test_run_on_s3.py": 25,
    "tests/integration/test_mirror_seed.py": 24,
    "tests/integration/cli/test_run_store_encryption.py": 23,
    "tests/integration/cli/test_stage.py": 23,
    "tests/integration/test_verify_live_app.py": 22,
    "tests/integration/test_mirror_switch.py": 21,
    "tests/integration/test_mirror_live_path.py": 19,
    "examples/orders/test_declaration.py": 14,
    "tests/integration/cli/test_backups_prune.py": 13,
    "examples/rename/test_several_renames.py": 14,
    "tests/integration/test_declaration_properties.py": 20,
    "tests/integration/test_streams_runner.py": 12,
    "tests/integration/test_streams_cli.py": 12,
    "tests/integration/test_mirror_restore.py": 12,
    "tests/integration/test_engine_differences.py": 11,
    "examples/orders/test_orders.py": 10,
    "examples/notes/test_notes.py": 16,
    "tests/integration/cli/test_private_run_store.py": 10,
    "tests/integration/cli/test_forged_run_store.py": 55,  # 2026-12-08, targeted runs of both engines
    "tests/integration/cli/test_own_run_store.py": 30,
}
DEFAULT_S = 5

# The tests each endpoint's lanes run: moto every generated test, LocalStack all but moto's own
# (it serves S3, CloudWatch and KMS too), the others the DynamoDB-only ones.
SELECT = {"moto": "per_endpoint", "localstack": "per_endpoint and not moto_only"}

# `make test`'s LocalStack lane: a test for each path a LocalStack user takes (the full suite runs
# with `make integration ENDPOINTS=localstack`); its cost is in docs/how-to/local-development.md.
SAMPLE = {
    "localstack": [
        "tests/integration/test_demo.py",  # the demo's story: seed, dry run, migrate, verify, live writes, restore
        "tests/integration/test_streams_runner.py",  # the live path through the local stream runner
        "tests/integration/test_run_on_s3.py",  # an s3:// run store: array workers, status, verify, restore
        "tests/integration/test_control.py::test_a_run_of_processes_is_paused_slowed_resumed_stopped_and_continued",
        "tests/integration/test_verify.py::test_cli_exit_codes_and_json",
        "tests/integration/test_restore.py::test_cli_dash_dash_restore_with_yes_restores_and_prints_json",
    ],
}


def test_files(shards: int) -> list[list[str]]:
    """The integration test files in ``shards`` groups of about equal measured time: each file, the
    slowest first, goes to the group with the least so far (the same split every run)."""
    files = sorted(str(path) for root in INTEGRATION_PATHS for path in Path(root).rglob("test_*.py"))
    groups: list[list[str]] = [[] for _ in range(shards)]
    loads = [0.0] * shards
    for name in sorted(files, key=lambda f: -MEASURED_S.get(f, DEFAULT_S)):  # stable: ties keep name order
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += MEASURED_S.get(name, DEFAULT_S)
    return groups


def lanes(endpoints: list[str], unit: bool, extra: list[str], shards: int = 2, lint: bool = False,
          sample: tuple[str, ...] = ()) -> list[Lane]:
    result = [Lane("lint", ["make", "--no-print-directory", "lint"])] if lint else []
    if unit:
        result.append(Lane("unit", [*PYTEST, *extra, "tests/unit"]))
    # The chosen endpoints, for the tests that start one of their own (test_localstack.py)
    result.append(Lane("servers", [*PYTEST, "-m", "not per_endpoint", *extra, *INTEGRATION_PATHS],
                       {"TEST_ENDPOINTS": ",".join(endpoints)}))
    groups = test_files(shards)
    for endpoint in endpoints:
        name = urlsplit(endpoint).netloc.replace(":", "-") if "://" in endpoint else endpoint
        select = SELECT.get(endpoint, "per_endpoint and not moto_only and not needs_aws")
        if endpoint in sample:
            result.append(Lane(f"{name}-sample", [*PYTEST, "-m", select, *extra, *SAMPLE[endpoint]],
                               {"TEST_ENDPOINTS": endpoint}))
            continue
        for k, files in enumerate(groups):
            lane = f"{name}-{k + 1}" if shards > 1 else name
            result.append(Lane(lane, [*PYTEST, "-m", select, *extra, *files], {"TEST_ENDPOINTS": endpoint}))
    return result


# The checkout's own code: an editable install leaves it uncompiled, and with PYTHONDONTWRITEBYTECODE
# (set on CI's machines) every process compiled it again: ~0.12 of a CLI child's 0.4 CPU-s.
OWN_CODE = ["app.py", "backfill", "chalicelib", "localdev", "tests", "examples", "bench"]


def compile_own_code(root: Path = Path(".")) -> None:
    """Write the checkout's bytecode once, so the lanes' processes and their CLI children import
    it rather than compile it (compileall writes whatever PYTHONDONTWRITEBYTECODE says)."""
    for path in (root / name for name in OWN_CODE):
        if path.is_dir():
            compileall.compile_dir(path, quiet=1)
        elif path.exists():
            compileall.compile_file(path, quiet=1)


def run(all_lanes: list[Lane]) -> int:
    LOGS.mkdir(exist_ok=True)
    compile_own_code()
    started = time.monotonic()
    running: dict[subprocess.Popen[bytes], Lane] = {}
    for lane in all_lanes:
        with lane.log.open("wb") as out:
            process = subprocess.Popen(lane.args, stdout=out, stderr=subprocess.STDOUT,
                                       env={**os.environ, **lane.env})
        running[process] = lane
        shown = ['python' if arg == sys.executable else arg for arg in lane.args]
        print(f"lane {lane.name}: {' '.join(shown)} > {lane.log}", flush=True)
    failed: list[str] = []
    cpu_total = 0.0
    while running:
        try:
            time.sleep(0.5)
        except KeyboardInterrupt:  # the lanes got Ctrl-C too: let them end and say where their logs are
            for process in running:
                process.wait()
            print(f"\ninterrupted: the lanes' logs are in {LOGS}/", flush=True)
            return 130
        for process in list(running):
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == 0:
                continue
            lane = running.pop(process)
            code = os.waitstatus_to_exitcode(status)
            # the lane's CPU seconds, its servers and CLI subprocesses included (the ones it waited for)
            cpu = usage.ru_utime + usage.ru_stime
            cpu_total += cpu
            seconds = time.monotonic() - started
            print(f"\n===== lane {lane.name} ended after {seconds:.0f} s, {cpu:.0f} CPU-s, exit {code} =====",
                  flush=True)
            sys.stdout.write(lane.log.read_text(errors="replace"))
            if code != 0:
                failed.append(f"{lane.name} ({EXIT_MEANING.get(code, f'exit {code}')})")
    total = time.monotonic() - started
    if failed:
        print(f"\nFAILED lanes: {', '.join(failed)} ({total:.0f} s, {cpu_total:.0f} CPU-s)", flush=True)
        return 1
    print(f"\nall {len(all_lanes)} lanes passed in {total:.0f} s, {cpu_total:.0f} CPU-s", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", action="store_true", help="also run the unit tests, in a lane of their own")
    parser.add_argument("--lint", action="store_true", help="also run `make lint` (ruff, mypy, the docs), in a lane")
    parser.add_argument("--endpoints", default=os.environ.get("TEST_ENDPOINTS", "moto,dynamodb-local"),
                        help="comma-separated endpoints (default: $TEST_ENDPOINTS or moto,dynamodb-local)")
    parser.add_argument("--sample", default="", metavar="ENDPOINTS",
                        help=f"comma-separated endpoints that run one lane of their sample of the files only "
                             f"(one of: {', '.join(SAMPLE)})")
    parser.add_argument("--shards", type=int, default=2, help="lanes per endpoint, sharing its test files (default: 2)")
    parser.add_argument("pytest_args", nargs="*", help="passed to every pytest process (after --)")
    options = parser.parse_args()
    endpoints = [e.strip() for e in options.endpoints.split(",") if e.strip()]
    if not endpoints:
        parser.error("--endpoints: no endpoint given")
    if options.shards < 1:
        parser.error("--shards: at least 1")
    sample = tuple(e.strip() for e in options.sample.split(",") if e.strip())
    unknown = [e for e in sample if e not in SAMPLE]
    if unknown:
        parser.error(f"--sample: no sample for {', '.join(unknown)} (one of: {', '.join(SAMPLE)})")
    return run(lanes(endpoints, options.unit, options.pytest_args, options.shards, options.lint, sample))


if __name__ == "__main__":
    sys.exit(main())
