"""Options every command takes, turned into a ``Target``."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import click

from backfill.target import Target
from chalicelib.config import Settings

# Limits of numeric options. Threads on this machine are bounded so a typo cannot start a
# hundred thousand of them; DynamoDB itself allows up to 1,000,000 scan segments.
MAX_THREADS = 1000
MAX_TOTAL_SEGMENTS = 1_000_000


class FiniteFloat(click.FloatRange):
    """A float in a range that also refuses NaN and infinity (click's FloatRange lets NaN through:
    every comparison with NaN is false)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --endpoint-url/--region/--profile/--*-table/--localstack; passes ``target``."""

    @click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="DynamoDB endpoint (moto server, LocalStack). Env: AWS_ENDPOINT_URL.")
    @click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], help="AWS region. Env: AWS_REGION / AWS_DEFAULT_REGION.")
    @click.option("--profile", envvar="AWS_PROFILE", help="AWS credentials profile. Env: AWS_PROFILE.")
    @click.option("--events-table", envvar="EVENTS_TABLE", default=Settings.events_table, show_default=True, help="Env: EVENTS_TABLE.")
    @click.option("--participants-table", envvar="PARTICIPANTS_TABLE", default=Settings.participants_table, show_default=True, help="Env: PARTICIPANTS_TABLE.")
    @click.option("--failures-table", envvar="FAILURES_TABLE", default=Settings.failures_table, show_default=True, help="Where stream handlers record records they could not apply. Env: FAILURES_TABLE.")
    @click.option("--localstack", is_flag=True, help="Use localstack-client's session (LocalStack on localhost:4566).")
    @functools.wraps(command)
    def wrapper(
        *args: Any,
        endpoint_url: str | None,
        region: str | None,
        profile: str | None,
        events_table: str,
        participants_table: str,
        failures_table: str,
        localstack: bool,
        **kwargs: Any,
    ) -> Any:
        settings = Settings().with_overrides(
            endpoint_url=endpoint_url,
            region=region,
            events_table=events_table,
            participants_table=participants_table,
            failures_table=failures_table,
        )
        target = Target(settings=settings, profile=profile, localstack=localstack)
        return command(*args, target=target, **kwargs)

    return wrapper


backup_dir_option = click.option(
    "--backup-dir",
    metavar="DIR|s3://BUCKET/PREFIX",
    default="backups",
    show_default=True,
    envvar="BACKUP_DIR",
    help="The run store: where backups, ledgers, checkpoints and reports live, a local directory or "
         "s3://bucket/prefix. Env: BACKUP_DIR.",
)
store_endpoint_option = click.option(
    "--endpoint-url", envvar="AWS_ENDPOINT_URL",
    help="Endpoint for an s3:// run store (moto server, LocalStack). Env: AWS_ENDPOINT_URL.",
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
