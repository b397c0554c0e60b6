"""``python -m demo`` (``make demo``): the migration story on an embedded endpoint, PASS or FAIL."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import click
from rich.console import Console

from backfill.target import Target
from chalicelib.config import Settings
from demo.report import exit_code, print_summary
from demo.story import DemoOptions, Story


def _quiet_logs() -> None:
    # The embedded server logs every request; the library logs every refused item. The story
    # prints what matters.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the stream handlers' JSON logs
    logging.basicConfig(level=logging.ERROR)
    for name in ("werkzeug", "backfill", "chalicelib", "botocore", "dynamo-evolve"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _offline_credentials() -> None:
    # boto3 signs every request, even to a local endpoint: dummy keys, never a real account.
    for name, value in (("AWS_ACCESS_KEY_ID", "demo"), ("AWS_SECRET_ACCESS_KEY", "demo")):
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_PROFILE", None)
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"  # streams calls stay on the endpoint


LOCALSTACK_URL = "http://localhost:4566"


def _localstack_reachable() -> bool:
    try:
        urllib.request.urlopen(f"{LOCALSTACK_URL}/_localstack/health", timeout=3).read()
    except OSError:
        return False
    return True


@click.command()
@click.option("--events", default=2000, show_default=True, help="Legacy events to seed.")
@click.option("--participants", default=6000, show_default=True, help="Participant rows to seed.")
@click.option("--malformed", default=6, show_default=True, help="Malformed legacy rows among the events.")
@click.option("--live-writes", default=200, show_default=True, help="Writes the old app makes during the story.")
@click.option("--seed", default=7, show_default=True, help="Seed of the data set and of the old app.")
@click.option("--localstack", is_flag=True, help="Use LocalStack on localhost:4566 instead of the embedded endpoint.")
@click.option("--backup-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep backups, ledger and reports here (default: a temporary directory).")
def main(events: int, participants: int, malformed: int, live_writes: int, seed: int,
         localstack: bool, backup_dir: Path | None) -> None:
    """Seed a legacy data set, then dry run, migrate, verify, live writes, restore, round trip."""
    _quiet_logs()
    console = Console(highlight=False)
    started = time.monotonic()
    scratch = None
    if backup_dir is None:
        scratch = tempfile.mkdtemp(prefix="dynamo-evolve-demo-")
        backup_dir = Path(scratch)
    options = DemoOptions(events=events, participants=participants, malformed=malformed, seed=seed,
                          live_writes=live_writes, backup_dir=backup_dir)
    try:
        if localstack:
            if not _localstack_reachable():
                console.print(f"[bold red]FAIL[/]: LocalStack is not reachable at {LOCALSTACK_URL} "
                              "(start it with `docker compose up -d`, or run the demo without --localstack)")
                sys.exit(1)
            # Fresh table names per run: LocalStack keeps tables between runs.
            suffix = time.strftime("%Y%m%d%H%M%S")
            settings = Settings(events_table=f"demo-events-{suffix}", participants_table=f"demo-participants-{suffix}",
                                failures_table=f"demo-failures-{suffix}")
            results = Story(Target(settings=settings, localstack=True), options, console).run()
        else:
            _offline_credentials()
            from backfill.local_endpoint import MotoEndpoint

            with MotoEndpoint() as endpoint:
                console.print(f"Embedded DynamoDB + Streams endpoint (moto server) at {endpoint.url}")
                target = Target(settings=Settings(endpoint_url=endpoint.url))
                results = Story(target, options, console).run()
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print_summary(console, results)
    console.print(f"total {time.monotonic() - started:.1f}s")
    sys.exit(exit_code(results))


if __name__ == "__main__":
    main()
