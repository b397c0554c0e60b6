"""Configuration from the environment (Lambda env vars from .chalice/config.json, or the CLI).

Table names: the declaration names its tables (``Schema.tables``: its own, then each aggregate's
source); a deployment renames them with ``<NAME>_TABLE`` (``ORDERS_TABLE``, ``ORDER_ITEMS_TABLE``:
the declared name upper-cased) in the environment, or the CLI's ``--table NAME=ACTUAL``.
``Settings.tables`` holds the renamed ones; a table not renamed keeps its declared name.

The defaults are the CLI's. The Lambda never uses them: it must be told its table names
(``Settings.for_lambda``), since a silent fallback to the declared names would point a dev stage
at the prod tables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.schema import Schema, active_schema
from chalicelib.schema.active import active_reference

FAILURES_VAR = "FAILURES_TABLE"
RETENTION_VARIABLE = "FAILURE_RETENTION_DAYS"
MAX_RETENTION_DAYS = 3650


class MissingSetting(RuntimeError):
    """A setting the Lambda cannot run without is not in its environment."""


# The schema version the deployed live path runs, in its Lambda environment: written into the
# stage's environment_variables from the declaration (``backfill stream-arns --write``), checked
# against the declaration when app.py is packaged, deployed or started (``deployed_version_problem``).
SCHEMA_VERSION_VAR = "DYNAMO_EVOLVE_SCHEMA_VERSION"


def deployed_version_problem(environment: Mapping[str, str], schema: Schema | None = None) -> str | None:
    """Why ``environment`` may not run ``schema`` (the active declaration): its
    DYNAMO_EVOLVE_SCHEMA_VERSION names another version. None when it agrees or is not set."""
    version = (schema or active_schema()).version
    named = environment.get(SCHEMA_VERSION_VAR)
    if named is None or named == str(version):
        return None
    return (f"{SCHEMA_VERSION_VAR} is {named!r} but the declaration ({active_reference()}) is version {version}: "
            f"run `backfill stream-arns --stage STAGE --write` with this declaration, then package or deploy again")


def table_variable(declared: str) -> str:
    """The environment variable that renames a declared table: ``order_items`` -> ORDER_ITEMS_TABLE."""
    return f"{declared.upper().replace('-', '_').replace('.', '_')}_TABLE"


def stream_variable(declared: str) -> str:
    """Where the Chalice app reads the stream ARN of a declared table: ORDER_ITEMS_STREAM_ARN."""
    return table_variable(declared).removesuffix("_TABLE") + "_STREAM_ARN"


def handler_name(declared: str) -> str:
    """The Chalice stream handler of a declared table: ``order_items`` -> order_items_stream."""
    return f"{declared}_stream"


# The deployed app's Lambda functions, as chalice names them (the live path's commands and the
# migration's lag watch both look them up).
APP_NAME = "dynamo-evolve"


def handlers() -> tuple[str, ...]:
    """The app's stream handlers: one per table the active declaration names (as app.py registers them)."""
    return tuple(handler_name(table) for table in active_schema().tables)


def function_name(stage: str, handler: str, app_name: str = APP_NAME) -> str:
    """The Lambda name chalice gives a handler: <app>-<stage>-<handler>."""
    return f"{app_name}-{stage}-{handler}"


def function_names(stage: str, app_name: str = APP_NAME) -> list[str]:
    return [function_name(stage, handler, app_name) for handler in handlers()]


def tables_from(environ: Mapping[str, str], schema: Schema | None = None) -> dict[str, str]:
    """The declared tables ``environ`` renames (``<DECLARED>_TABLE``, set and not empty), mirrors included."""
    declared = (schema or active_schema()).named_tables
    return {name: environ[table_variable(name)] for name in declared if environ.get(table_variable(name))}


def lambda_required(schema: Schema | None = None) -> tuple[str, ...]:
    return (*(table_variable(name) for name in (schema or active_schema()).named_tables), FAILURES_VAR)


@dataclass(frozen=True)
class Settings:
    failures_table: str = "migration-failures"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)  # declared name -> actual name
    # Recorded failures hold item images: the failures table's TTL removes each this many days
    # after it was recorded (per stage: FAILURE_RETENTION_DAYS in .chalice/config.json).
    failure_retention_days: int = 30

    def table(self, declared: str) -> str:
        """The actual name of the table the declaration calls ``declared`` (itself unless renamed)."""
        return self.tables.get(declared, declared)

    def with_tables(self, renamed: Mapping[str, str]) -> Settings:
        """A copy with the tables ``renamed`` (declared name -> actual name) renamed too."""
        return replace(self, tables={**self.tables, **renamed})

    @property
    def target_table(self) -> str:
        """The active declaration's own table (the one migrated)."""
        return self.table(active_schema().table)

    def source_table(self, index: int = 0) -> str:
        """The source table of the active declaration's aggregate ``index``."""
        return self.table(active_schema().aggregates[index].source.table)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            failures_table=env.get(FAILURES_VAR, cls.failures_table),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            tables=tables_from(env),
            failure_retention_days=retention_days(env.get(RETENTION_VARIABLE), cls.failure_retention_days),
        )

    @classmethod
    def for_lambda(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings for the Lambda: every table name must be set. Raises MissingSetting."""
        env = os.environ if environ is None else environ
        missing = [name for name in lambda_required() if not env.get(name)]
        if missing:
            raise MissingSetting(
                f"{', '.join(missing)} not set: give each per stage in .chalice/config.json "
                "(environment_variables); the Lambda has no default table names"
            )
        return cls.from_env(dict(env))

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with every override that is not None applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def retention_days(text: str | None, default: int) -> int:
    """FAILURE_RETENTION_DAYS: a whole number of days, 1 to 3650 (unset: ``default``)."""
    if text is None or text == "":
        return default
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise MissingSetting(f"{RETENTION_VARIABLE}={text!r} is not a number of days from 1 to {MAX_RETENTION_DAYS}")
    return days
