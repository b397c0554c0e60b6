"""CLI tests: ``backfill`` in a subprocess against the test endpoint, target given by env vars."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from chalicelib.config import Settings
from tests.support.cli import CliRun, cli_env, run_backfill

Backfill = Callable[..., CliRun]

UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens on loopback


def target_env(settings: Settings) -> dict[str, str]:
    env = {
        "AWS_REGION": settings.region,
        "EVENTS_TABLE": settings.table("events"),
        "PARTICIPANTS_TABLE": settings.table("participants"),
        "FAILURES_TABLE": settings.failures_table,
    }
    if settings.endpoint_url:
        env["AWS_ENDPOINT_URL"] = settings.endpoint_url
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The CLI's working directory (its default ./backups lands here)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def backfill(live_settings: Settings, workdir: Path) -> Backfill:
    """``backfill(*args, env={...})``: run the CLI against the test endpoint; no traceback allowed."""

    def run(*args: str, env: Mapping[str, str] | None = None, drop: Sequence[str] = ()) -> CliRun:
        return run_backfill(*args, cwd=workdir, env=cli_env({**target_env(live_settings), **(env or {})}, drop=drop))

    return run


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))
