"""Fault suite fixtures: a Target on the moto server, seeded data, figures, the closing summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backfill.table.target import Target
from chalicelib.config import Settings
from tests.integration.faults.figures import SESSION, Figures

pytestmark = pytest.mark.integration


@pytest.fixture
def target(live_settings: Settings, dynamodb: Any) -> Target:
    """Where the code under test acts (tables created by the ``dynamodb`` fixture)."""
    return Target(settings=live_settings)


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def figures() -> Iterator[Figures]:
    """What this scenario measured; added to the session's figures when it ends."""
    scenario = Figures(scenarios=1)
    yield scenario
    SESSION.add(scenario)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SESSION.scenarios:
        return
    terminalreporter.section("fault suite figures")
    for line in SESSION.lines():
        terminalreporter.write_line(line)
