"""``python -m bench.dynamodb_local_jvm``: what DynamoDB Local's JVM flags cost in CPU.

The test lanes and the demo start DynamoDB Local for minutes at a time, on machines with two
cores shared by six test processes, so its CPU is the suite's budget. This bench starts it with
the JVM's default flags and with ``localdev.dynamodb_local.JVM_FLAGS``, alternately, and runs the
same workload against each: puts, conditional updates and full scans of items shaped like the
events table's. It reads the JVM's own CPU from /proc (start-up and workload apart) and writes
``bench/dynamodb_local_jvm.md``."""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3

from bench.harness import FAKE_CREDENTIALS, process_cpu_seconds
from localdev import dynamodb_local
from localdev.endpoint import DynamoDBLocalEndpoint

RESULTS = Path(__file__).with_name("dynamodb_local_jvm.md")
TABLE = "jvm-bench"


def _client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", **FAKE_CREDENTIALS)


def _workload(dynamodb: Any, items: int, scans: int) -> None:
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}])
    for i in range(items):
        dynamodb.put_item(TableName=TABLE, Item={
            "eventId": {"S": f"evt-{i:06d}"}, "title": {"S": f"Event {i}"}, "capacity": {"N": str(i % 500)},
            "tags": {"L": [{"S": "music"}, {"S": "outdoor"}]}, "venue": {"M": {"city": {"S": "Lyon"}}}})
    for i in range(items):
        dynamodb.update_item(TableName=TABLE, Key={"eventId": {"S": f"evt-{i:06d}"}},
                             UpdateExpression="SET schemaVersion = :v, participantCount = :c",
                             ConditionExpression="attribute_exists(eventId) AND attribute_not_exists(schemaVersion)",
                             ExpressionAttributeValues={":v": {"N": "2"}, ":c": {"N": "0"}})
    for _ in range(scans):
        for _page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
            pass


def measure(flags: tuple[str, ...], items: int, scans: int) -> dict[str, Any]:
    began = time.monotonic()
    with DynamoDBLocalEndpoint(jvm_flags=flags) as endpoint:  # started: it answers HTTP
        assert endpoint.pid is not None
        ready_s = time.monotonic() - began
        start_up = process_cpu_seconds(endpoint.pid)
        began = time.monotonic()
        _workload(_client(endpoint.url), items, scans)
        workload_s = time.monotonic() - began
        total = process_cpu_seconds(endpoint.pid)
    return {"flags": " ".join(flags) or "(JVM defaults)", "start_up_cpu": start_up,
            "workload_cpu": total - start_up, "total_cpu": total, "workload_s": workload_s, "ready_s": ready_s}


def render(rows: list[dict[str, Any]], command: str) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# DynamoDB Local: JVM flags and CPU", "",
             f"`{command}` on {when}: the JVM's own CPU (user + system, /proc), for start-up and for the "
             "workload (puts, conditional updates, full scans); the ratio is each total against the "
             "defaults' mean.", "",
             "| flags | start-up CPU-s | workload CPU-s | total CPU-s | workload s | ratio |",
             "|---|---|---|---|---|---|"]
    defaults = [r["total_cpu"] for r in rows if r["flags"] == "(JVM defaults)"]
    baseline = sum(defaults) / len(defaults)
    for row in rows:
        lines.append(f"| {row['flags']} | {row['start_up_cpu']:.1f} | {row['workload_cpu']:.1f} | "
                     f"{row['total_cpu']:.1f} | {row['workload_s']:.1f} | {row['total_cpu'] / baseline:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dynamodb_local_jvm", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--scans", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="each configuration this many times, alternately")
    args = parser.parse_args()
    rows = [measure(flags, args.items, args.scans)
            for _ in range(args.rounds) for flags in ((), dynamodb_local.JVM_FLAGS)]
    text = render(rows, f"python -m bench.dynamodb_local_jvm --items {args.items} --scans {args.scans} "
                        f"--rounds {args.rounds}")
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
