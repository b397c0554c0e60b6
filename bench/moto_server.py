"""``python -m bench.moto_server``: what serving moto over HTTP costs in CPU, per request.

The moto test lanes run moto in the test process, so its HTTP server and the client share the
lane's CPU. This bench serves the same moto application two ways, alternately, and runs the same
workload through boto3 against each: moto's own ``ThreadedMotoServer`` (werkzeug: a new TCP
connection and a new thread per request) and ``localdev.endpoint.MotoEndpoint`` (waitress:
connections kept open, a pool of threads). It measures this process's CPU (client and server
together, as in a lane) and writes ``bench/moto_server.md``."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3

from bench.harness import FAKE_CREDENTIALS
from localdev.endpoint import MotoEndpoint, _list_moto_modules_once, free_port

RESULTS = Path(__file__).with_name("moto_server.md")
TABLE = "moto-bench"
BASELINE = "ThreadedMotoServer (werkzeug)"
CANDIDATE = "MotoEndpoint (waitress)"


@contextmanager
def threaded_moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    _list_moto_modules_once()  # the same patch on both sides: only the HTTP server differs
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@contextmanager
def moto_endpoint() -> Iterator[str]:
    with MotoEndpoint() as endpoint:
        yield endpoint.url


SERVERS: dict[str, Callable[[], Any]] = {BASELINE: threaded_moto_server, CANDIDATE: moto_endpoint}


def _workload(dynamodb: Any, items: int, writers: int) -> int:
    """Puts, reads, conditional updates (from ``writers`` threads) and a scan; the request count."""
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}])

    def one(i: int) -> None:
        key = {"eventId": {"S": f"evt-{i:06d}"}}
        dynamodb.put_item(TableName=TABLE, Item={**key, "title": {"S": f"Event {i}"}, "status": {"S": "waiting"}})
        dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET schemaVersion = :v",
                             ConditionExpression="attribute_exists(eventId) AND attribute_not_exists(schemaVersion)",
                             ExpressionAttributeValues={":v": {"N": "2"}})

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(one, range(items)))
    pages = sum(1 for _ in dynamodb.get_paginator("scan").paginate(TableName=TABLE, Limit=100))
    return 1 + 3 * items + pages


def measure(server: str, items: int, writers: int) -> dict[str, Any]:
    """One round in a process of its own: moto's backends, werkzeug's leftover request threads
    and sockets all belong to a process, and must not reach the next round."""
    command = [sys.executable, "-m", "bench.moto_server", "--one", server, "--items", str(items),
               "--writers", str(writers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def measure_here(server: str, items: int, writers: int) -> dict[str, Any]:
    with SERVERS[server]() as url:  # in a fresh process (``measure``): moto's backends start empty
        dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", **FAKE_CREDENTIALS)
        began_cpu, began = time.process_time(), time.monotonic()
        requests = _workload(dynamodb, items, writers)
        cpu, wall = time.process_time() - began_cpu, time.monotonic() - began
    return {"server": server, "requests": requests, "cpu_ms": cpu / requests * 1000, "wall_s": wall}


def render(rows: list[dict[str, Any]], command: str) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    medians = {server: statistics.median(r["cpu_ms"] for r in rows if r["server"] == server) for server in SERVERS}
    lines = ["# moto over HTTP: CPU per request", "",
             f"`{command}` on {when}: this process's CPU (boto3 client and moto server together) per "
             f"request, each round in a fresh process, the servers alternating; the ratio is against "
             f"{BASELINE}'s median.", "",
             "| server | requests | CPU ms per request | wall s | ratio |", "|---|---|---|---|---|"]
    lines += [f"| {r['server']} | {r['requests']} | {r['cpu_ms']:.2f} | {r['wall_s']:.1f} | "
              f"{r['cpu_ms'] / medians[BASELINE]:.2f} |" for r in rows]
    lines += ["", "| server | median CPU ms per request | ratio |", "|---|---|---|"]
    lines += [f"| {server} | {median:.2f} | {median / medians[BASELINE]:.2f} |" for server, median in medians.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.moto_server", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--writers", type=int, default=4, help="threads writing at once (the CLI's --writers)")
    parser.add_argument("--rounds", type=int, default=2, help="each server this many times, alternately")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--one", choices=sorted(SERVERS), help=argparse.SUPPRESS)  # one round, JSON on stdout
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_here(args.one, args.items, args.writers)))
        return
    rows = [measure(server, args.items, args.writers) for _ in range(args.rounds) for server in SERVERS]
    text = render(rows, f"python -m bench.moto_server --items {args.items} --writers {args.writers} "
                        f"--rounds {args.rounds}")
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
