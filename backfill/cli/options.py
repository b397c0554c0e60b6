"""Options every command takes, turned into a ``Target``."""

from __future__ import annotations

import dataclasses
import errno
import functools
import math
import os
import re
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from backfill.errors import BadInput
from backfill.run.runs import segment_from_environment
from backfill.run.store import Encryption, StoreError
from backfill.run.store.local import check_own_directory, private_directory
from backfill.run.store.s3 import SSE_CHOICES
from backfill.table.stage import CHALICE_CONFIG, Stage, load_stage
from backfill.table.target import DEFAULT_CONNECT_TIMEOUT, Target
from chalicelib.aws import localstack_endpoint_url
from chalicelib.config import Settings, tables_from
from chalicelib.schema import active_schema

T = TypeVar("T")

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


TARGET_META = "backfill.table.target"
# DynamoDB's rules for table names and botocore's for region names.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_REGION_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")


def _endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http:// or https:// URL (e.g. http://localhost:8000)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise click.BadParameter(f"{value!r}: {error}") from error
    return value


def _region(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _REGION_NAME.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a region name (e.g. eu-west-1)")
    return value


def _table_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _TABLE_NAME.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")
    return value


def _renamed_tables(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Each DECLARED=ACTUAL checked; kept as typed, so ``--processes`` forwards them as given."""
    declared = active_schema().named_tables
    for value in values:
        name, sep, actual = value.partition("=")
        if not sep or name not in declared:
            raise click.BadParameter(f"{value!r} is not DECLARED=ACTUAL with DECLARED one of {', '.join(declared)}")
        _table_name(ctx, param, actual)
    return values


def _localstack(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """--localstack needs localstack-client, an optional extra of the package."""
    if value:
        try:
            import localstack_client  # noqa: F401
        except ImportError:
            raise click.BadParameter(
                "localstack-client is not installed: pip install 'dynamo-evolve[localstack]'") from None
    return value


@dataclass(frozen=True)
class TargetOptions:
    """What ``target_options`` was given: the endpoint, the tables, the session, the stage."""

    endpoint_url: str | None
    region: str | None
    profile: str | None
    failures_table: str
    renamed_tables: tuple[str, ...]  # DECLARED=ACTUAL, as typed
    localstack: bool
    connect_timeout: float
    stage: str | None
    chalice_config: Path

    def target(self, encryption: Encryption) -> Target:
        """The ``Target``: a table is named by --table, else <DECLARED>_TABLE in the environment,
        else the stage's environment, else its declared name; other options given explicitly win
        over the stage's."""
        chosen = load_stage(self.stage, self.chalice_config) if self.stage is not None else None
        failures_table, region = self.failures_table, self.region
        tables: dict[str, str] = {}
        if chosen is not None:
            stage_values = from_stage(click.get_current_context(), chosen)
            failures_table = stage_values.get("failures_table", failures_table)
            region = stage_values.get("region", region)
            tables.update(tables_from(chosen.environment))
        tables.update(tables_from(os.environ))
        tables.update(value.partition("=")[::2] for value in self.renamed_tables)
        endpoint_url = localstack_endpoint_url(self.endpoint_url) if self.localstack else self.endpoint_url
        settings = Settings(tables=tables).with_overrides(
            endpoint_url=endpoint_url, region=region, failures_table=failures_table)
        return Target(settings=settings, profile=self.profile, localstack=self.localstack,
                      connect_timeout=self.connect_timeout, store_encryption=encryption, stage=chosen)


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --endpoint-url/--region/--profile/--table/--failures-table/--localstack/--stage; passes ``target``."""

    @click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", callback=_endpoint_url, help="Endpoint of every AWS service the command calls: DynamoDB, an s3:// run store, and for the live commands Lambda, SQS, SNS and CloudWatch (a moto server, LocalStack). Env: AWS_ENDPOINT_URL.")
    @click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], callback=_region, help="AWS region. Env: AWS_REGION / AWS_DEFAULT_REGION.")
    @click.option("--profile", envvar="AWS_PROFILE", help="AWS credentials profile. Env: AWS_PROFILE.")
    @click.option("--table", "renamed_tables", metavar="DECLARED=ACTUAL", multiple=True, callback=_renamed_tables,
                  help="The actual name of a table the declaration names (repeatable; a table not renamed keeps "
                       "its declared name), e.g. --table events=prod-events. Env: <DECLARED>_TABLE, e.g. "
                       "EVENTS_TABLE, ORDER_ITEMS_TABLE.")
    @click.option("--failures-table", envvar="FAILURES_TABLE", default=Settings.failures_table, show_default=True, callback=_table_name, help="Where stream handlers record records they could not apply. Env: FAILURES_TABLE.")
    @click.option("--localstack", is_flag=True, callback=_localstack, help="LocalStack, with its placeholder credentials: at --endpoint-url (or AWS_ENDPOINT_URL), else AWS_ENDPOINT_URL_DYNAMODB, else localstack-client's LOCALSTACK_HOST=host:port (USE_SSL=1: https), else localhost:4566 (extra [localstack]).")
    @click.option("--stage", metavar="NAME", help="Chalice stage (local, dev, prod, ...): its tables and region come from "
                  "--chalice-config; options and their environment variables given explicitly win.")
    @click.option("--chalice-config", type=click.Path(dir_okay=False, path_type=Path), default=CHALICE_CONFIG,
                  show_default=True, help="The Chalice config that names each stage's tables.")
    @click.option("--connect-timeout", type=FiniteFloat(min=0.1, max=300), default=DEFAULT_CONNECT_TIMEOUT,
                  show_default=True, envvar="BACKFILL_CONNECT_TIMEOUT", metavar="SECONDS",
                  help="Before its first request a command asks the endpoint one question with this "
                       "timeout (one retry): an endpoint that is down fails in seconds. Env: BACKFILL_CONNECT_TIMEOUT.")
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = TargetOptions(**{f.name: kwargs.pop(f.name) for f in dataclasses.fields(TargetOptions)})
        target = given.target(store_encryption(kwargs))
        click.get_current_context().meta[TARGET_META] = target  # named in errors (backfill.cli.main)
        return command(*args, target=target, **kwargs)

    return wrapper


def command_line(cls: Callable[..., T]) -> Callable[[Callable[[Target, T], None]], Callable[..., None]]:
    """Hands a command its options as one value, ``cls(**options)`` (a dataclass whose fields are
    the option names), instead of one parameter each. Goes just under ``target_options``."""

    def decorate(command: Callable[[Target, T], None]) -> Callable[..., None]:
        @functools.wraps(command)
        def wrapper(target: Target, **given: Any) -> None:
            command(target, cls(**given))

        return wrapper

    return decorate


def from_stage(ctx: click.Context, stage: Stage) -> dict[str, str]:
    """The values ``stage`` gives the options of ``ctx`` left at their defaults: each option whose
    environment variable the stage's environment sets (FAILURES_TABLE, ...), and the region. (The
    declared tables' names come from the stage's ``<DECLARED>_TABLE`` variables: ``tables_from``.)"""
    values: dict[str, str] = {}
    for parameter in ctx.command.params:
        name = parameter.name
        if not isinstance(parameter, click.Option) or name is None:
            continue
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None):
            continue
        envvars = [parameter.envvar] if isinstance(parameter.envvar, str) else list(parameter.envvar or ())
        given = [stage.environment[var] for var in envvars if var in stage.environment]
        if given:
            values[name] = given[0]
        elif name == "region" and stage.region is not None:
            values[name] = stage.region
    return values


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


def store_encryption_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--sse/--sse-kms-key-id, for commands that write to the run store; ``target_options`` takes
    them out of the command's arguments into its ``Target`` (children of --processes get them
    forwarded like any option given on the command line)."""
    command = click.option(
        "--sse-kms-key-id", metavar="KEY", envvar="BACKUP_SSE_KMS_KEY_ID",
        help="KMS key (id, ARN or alias/NAME) for an s3:// run store's objects; implies --sse aws:kms. "
             "Env: BACKUP_SSE_KMS_KEY_ID.")(command)
    return click.option(
        "--sse", type=click.Choice(SSE_CHOICES), envvar="BACKUP_SSE",
        help="Server-side encryption of every object written to an s3:// run store (backup, manifest, "
             "ledger, checkpoint, report). Default: the bucket's default encryption. Env: BACKUP_SSE.")(command)


def store_encryption(kwargs: dict[str, Any]) -> Encryption:
    """The encryption options taken out of a command's arguments; refused (exit 2, before any
    request) when nothing the command names is in S3."""
    try:
        encryption = Encryption.of(kwargs.pop("sse", None), kwargs.pop("sse_kms_key_id", None))
    except StoreError as error:
        raise BadInput(str(error)) from error
    if encryption.algorithm is not None and not any(str(value).startswith("s3://") for value in kwargs.values()):
        raise BadInput(f"--sse/--sse-kms-key-id ({encryption.describe()}) is for an s3:// run store, and "
                       f"--backup-dir {kwargs.get('backup_dir')} is a local directory",
                       hint="local run store files are private to you (0600); give --backup-dir s3://BUCKET/PREFIX")
    return encryption


yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
allow_version_mismatch_option = click.option(
    "--allow-version-mismatch", is_flag=True,
    help="With --stage: write although the stage's deployed live path runs another schema version than this "
         "declaration (DYNAMO_EVOLVE_SCHEMA_VERSION in its environment). Without it the command refuses (exit 3).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")


def require_writable_store(location: str) -> None:
    """Refuse (exit 2) a local run store directory that cannot be created or written, or that
    another user could write to, before a command reads anything. (An s3:// store reports its
    own errors on the first write.)"""
    if location.startswith("s3://"):
        return
    directory = Path(location)
    missing = [d for d in (directory, *directory.parents) if not d.exists()]  # deepest first
    if directory not in missing and directory.is_dir():
        private_directory(directory)  # refuses a group- or world-writable one
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
        for created in missing:  # the run creates them when it writes; a failed run leaves none
            created.rmdir()
    except OSError as error:
        reason = error.strerror or str(error)
        if directory.exists() and not directory.is_dir():
            reason = "it is a file, not a directory"
        elif error.errno == errno.ENOTDIR:
            reason = "not a directory: a part of the path is a regular file"
        raise BadInput(f"backup directory {directory} cannot be written: {reason}",
                       hint="give a writable --backup-dir (or BACKUP_DIR)") from error


def require_own_store(*locations: str | Path) -> None:
    """Refuse (exit 2) a local run store that is not the caller's own (``check_own_directory``:
    another owner, writable by others, an ACL beyond its mode) before a command sends any request:
    what a restore writes back, a resume continues from, or a control record steers is read from
    it. An s3:// store is guarded by its bucket's policy and versioning instead."""
    for location in locations:
        if not str(location).startswith("s3://"):
            check_own_directory(Path(location))


def segment_or_array_index(segment: int | None) -> tuple[int, str] | None:
    """(index, where it came from) of this worker's segment: ``--segment``, else the index an
    array-job engine set (AWS Batch, Kubernetes Indexed Job), else None; a garbled index is a
    usage error naming its variable."""
    if segment is not None:
        return segment, "--segment"
    try:
        return segment_from_environment()
    except ValueError as error:
        raise click.UsageError(str(error)) from error
