"""A widely used dump tool, measured on the same endpoint and data: dynamodump's restore.

The issue compares bulk restore with "a widely used dump tool"; rather than quote a figure, the
bench runs one: ``dynamodump`` (PyPI, boto3 BatchWriteItem in 25s), pinned in the dev extras.
Its backup of the events table is taken unmeasured; the measured part is its ``--dataOnly``
restore into a new, empty table, the same job as ``backfill restore FILE --to-table``.

It runs as a child process, so its client CPU is the child's (``RUSAGE_CHILDREN``), minus the
CPU of starting that interpreter with ``--help`` (measured the same way, just before), so the
per-item figure compares with the in-process ones. Its requests are not counted (another
process). The copy is then compared with the source, attribute by attribute, type-exact: the
notes say whether every value arrived as it was.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from chalicelib.aws import client
from chalicelib.config import Settings

TOOL = "dynamodump"
FAKE_KEYS = ["--accessKey", "bench", "--secretKey", "bench"]


def _executable() -> str:
    beside = Path(sys.executable).parent / TOOL
    return str(beside) if beside.exists() else TOOL


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(arguments: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run the tool; (child CPU seconds it used, the finished process)."""
    before = _children_cpu()
    done = subprocess.run([_executable(), *arguments], capture_output=True, text=True, check=False)
    return _children_cpu() - before, done


def _scan_all(dynamodb: Any, table: str) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            items[item["eventId"]["S"]] = item
    return items


def run_dump_tool_restore(session: Any, watch: Any, settings: Settings, copy_table: str) -> tuple[int, dict[str, Any]]:
    """dynamodump's restore of the events table into the empty ``copy_table``."""
    if not settings.endpoint_url:
        raise ValueError("the dump tool is measured against a local endpoint (an endpoint URL), not AWS")
    dynamodb = client(session, "dynamodb", settings)
    host, _, port = (settings.endpoint_url or "").rpartition("://")[2].rpartition(":")
    common = ["-r", settings.region, "--host", host, "--port", port, *FAKE_KEYS]
    with tempfile.TemporaryDirectory(prefix="bench-dynamodump-") as dump:
        with watch.paused():
            startup_cpu, _ = _run(["--help"])
            _, backup = _run([*common, "--dumpPath", dump, "-m", "backup", "-s", settings.table("events")])
            if backup.returncode != 0:
                raise RuntimeError(f"{TOOL} backup exited {backup.returncode}: {backup.stderr.strip()[-300:]}")
            # --dataOnly into a table made here: the tool's own CreateTable copies an empty list of
            # global secondary indexes, which the endpoint rejects.
            description = dynamodb.describe_table(TableName=settings.table("events"))["Table"]
            dynamodb.create_table(TableName=copy_table, KeySchema=description["KeySchema"],
                                  AttributeDefinitions=description["AttributeDefinitions"],
                                  BillingMode="PAY_PER_REQUEST")
            dynamodb.get_waiter("table_exists").wait(TableName=copy_table, WaiterConfig={"Delay": 1})
        restore_cpu, restore = _run([*common, "--dumpPath", dump, "-m", "restore", "-s", settings.table("events"),
                                     "-d", copy_table, "--dataOnly", "--noConfirm", "--skipThroughputUpdate"])
    if restore.returncode != 0:
        raise RuntimeError(f"{TOOL} restore exited {restore.returncode}: {restore.stderr.strip()[-300:]}")
    with watch.paused():
        source, copy = _scan_all(dynamodb, settings.table("events")), _scan_all(dynamodb, copy_table)
    differing = sorted(key for key in source if copy.get(key) != source[key])
    return len(copy), {
        "child_cpu_seconds": max(0.0, restore_cpu - startup_cpu),
        "startup_cpu_seconds": startup_cpu,
        "identical": not differing and len(copy) == len(source),
        "differing_items": len(differing) + abs(len(source) - len(copy)),
    }
