"""boto3 sessions and clients, configured once: adaptive retries, endpoint from settings."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from chalicelib.config import Settings

# Adaptive mode adds client-side rate limiting on top of exponential backoff when throttled.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": 10},  # the first request included
    max_pool_connections=64,
    connect_timeout=5,
    read_timeout=30,
)


def make_session(
    *, profile: str | None = None, region: str | None = None, localstack: bool = False
) -> Any:
    """A boto3 session, or localstack-client's session (endpoints on localhost:4566)."""
    if localstack:
        from localstack_client.session import Session as LocalstackSession

        return LocalstackSession(region_name=region or "us-east-1")
    return boto3.session.Session(profile_name=profile, region_name=region)


def client(session: Any, service: str, settings: Settings) -> Any:
    """A client for ``service`` ("dynamodb" or "dynamodbstreams") at the configured endpoint."""
    kwargs: dict[str, Any] = {"region_name": settings.region, "config": RETRY_CONFIG}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    return session.client(service, **kwargs)
