"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os

import pytest

# Never reach a real account from the tests.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
os.environ.pop("AWS_PROFILE", None)

from chalicelib.config import Settings  # noqa: E402


@pytest.fixture
def settings() -> Settings:
    return Settings(
        events_table="events",
        participants_table="participants",
        failures_table="migration-failures",
        region="us-east-1",
    )
