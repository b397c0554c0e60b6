"""``python -m demo`` (``make demo``): the migration story on an embedded endpoint, PASS or FAIL."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import click
from rich.console import Console

from backfill.table.target import Target
from chalicelib.aws import localstack_endpoint_url
from chalicelib.config import Settings
from demo.report import exit_code, print_summary
from demo.story import DemoOptions, Story
from localdev.endpoint import (
    MOTO,
    EndpointUnavailable,
    ExternalEndpoint,
    check_choice,
    is_url,
    open_endpoint,
)


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


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")


def _checked_choice(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_choice(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _fail(console: Console, message: str) -> NoReturn:
    console.print(f"[bold red]FAIL[/]: {message}")
    sys.exit(1)


@click.command()
@click.option("--events", default=2000, show_default=True, help="Legacy events to seed.")
@click.option("--participants", default=6000, show_default=True, help="Participant rows to seed.")
@click.option("--malformed", default=6, show_default=True, help="Malformed legacy rows among the events.")
@click.option("--live-writes", default=200, show_default=True, help="Writes the old app makes during the story.")
@click.option("--seed", default=7, show_default=True, help="Seed of the data set and of the old app.")
@click.option("--endpoint", "choice", default=MOTO, show_default=True, metavar="moto|dynamodb-local|localstack|URL",
              callback=_checked_choice,
              help="Where the story runs: moto's server, DynamoDB Local or LocalStack (started and stopped by the "
                   "demo on a free port), or the http(s):// URL of a running endpoint such as LocalStack (fresh "
                   "table names).")
@click.option("--localstack", is_flag=True,
              help="A LocalStack that is running: --endpoint AWS_ENDPOINT_URL, else AWS_ENDPOINT_URL_DYNAMODB, else "
                   "http://LOCALSTACK_HOST (localstack-client's host:port), else http://localhost:4566.")
@click.option("--backup-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep backups, ledger and reports here (default: a temporary directory).")
def main(events: int, participants: int, malformed: int, live_writes: int, seed: int,
         choice: str, localstack: bool, backup_dir: Path | None) -> None:
    """Seed a legacy data set, then dry run, migrate, verify, live writes, restore, round trip."""
    _quiet_logs()
    console = Console(highlight=False)
    started = time.monotonic()
    choice = localstack_endpoint_url() if localstack else choice
    if not is_url(choice) or _is_loopback(choice):
        _offline_credentials()
    scratch = None
    if backup_dir is None:
        scratch = tempfile.mkdtemp(prefix="dynamo-evolve-demo-")
        backup_dir = Path(scratch)
    options = DemoOptions(events=events, participants=participants, malformed=malformed, seed=seed,
                          live_writes=live_writes, backup_dir=backup_dir)
    try:
        with open_endpoint(choice) as endpoint:
            if isinstance(endpoint, ExternalEndpoint):
                # Fresh table names per run: a running endpoint keeps its tables between runs.
                suffix = time.strftime("%Y%m%d%H%M%S")
                settings = Settings(tables={"events": f"demo-events-{suffix}", "participants": f"demo-participants-{suffix}"},
                                    failures_table=f"demo-failures-{suffix}", endpoint_url=endpoint.url)
                console.print(f"Endpoint {endpoint.url}")
            else:
                settings = Settings(endpoint_url=endpoint.url)
                console.print(f"Embedded DynamoDB + Streams endpoint ({endpoint.name}) at {endpoint.url}")
            results = Story(Target(settings=settings), options, console).run()
    except EndpointUnavailable as error:
        _fail(console, f"{error} (run the demo with another --endpoint)")
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print_summary(console, results)
    console.print(f"total {time.monotonic() - started:.1f}s")
    sys.exit(exit_code(results))


if __name__ == "__main__":
    main()
