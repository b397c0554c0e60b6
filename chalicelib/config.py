"""Configuration from the environment (Lambda env vars from .chalice/config.json, or the CLI).

The defaults are the CLI's (its options fall back to them). The Lambda never uses them: it must
be told its table names (``Settings.for_lambda``), since a silent fallback to ``events`` would
point a dev stage at the prod tables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

LAMBDA_REQUIRED = ("EVENTS_TABLE", "PARTICIPANTS_TABLE", "FAILURES_TABLE")
RETENTION_VARIABLE = "FAILURE_RETENTION_DAYS"
MAX_RETENTION_DAYS = 3650


class MissingSetting(RuntimeError):
    """A setting the Lambda cannot run without is not in its environment."""


@dataclass(frozen=True)
class Settings:
    events_table: str = "events"
    participants_table: str = "participants"
    failures_table: str = "migration-failures"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    # Recorded failures hold item images: the failures table's TTL removes each this many days
    # after it was recorded (per stage: FAILURE_RETENTION_DAYS in .chalice/config.json).
    failure_retention_days: int = 30

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            events_table=env.get("EVENTS_TABLE", cls.events_table),
            participants_table=env.get("PARTICIPANTS_TABLE", cls.participants_table),
            failures_table=env.get("FAILURES_TABLE", cls.failures_table),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            failure_retention_days=retention_days(env.get(RETENTION_VARIABLE), cls.failure_retention_days),
        )

    @classmethod
    def for_lambda(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings for the Lambda: every table name must be set. Raises MissingSetting."""
        env = os.environ if environ is None else environ
        missing = [name for name in LAMBDA_REQUIRED if not env.get(name)]
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
