"""Configuration from the environment (Lambda env vars from .chalice/config.json, or the CLI)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Settings:
    events_table: str = "events"
    participants_table: str = "participants"
    failures_table: str = "migration-failures"
    region: str = "us-east-1"
    endpoint_url: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            events_table=env.get("EVENTS_TABLE", cls.events_table),
            participants_table=env.get("PARTICIPANTS_TABLE", cls.participants_table),
            failures_table=env.get("FAILURES_TABLE", cls.failures_table),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        )

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with every override that is not None applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})
