"""Integration fixtures: every test that uses an endpoint runs once per chosen endpoint.

The endpoints come from ``--endpoint`` (repeatable) or ``TEST_ENDPOINTS`` (comma-separated);
by default moto's server and DynamoDB Local (``localstack`` too when named), each started once per
session on a free port and reset (all tables dropped) before every test. A test's id names its
endpoint: ``[moto]``, ``[dynamodb-local]``, ``[localstack]``, or the URL's host:port. A test that can
only run on moto says why with ``@pytest.mark.moto_only(reason=...)``; one that needs more AWS
services than DynamoDB at the endpoint (S3, CloudWatch, KMS) says why with
``@pytest.mark.needs_aws(reason=...)`` and runs on moto and LocalStack. Neither is generated for the
other endpoints, and the session summary lists them. Every generated test carries the ``per_endpoint`` mark, so one
pytest process per endpoint can run just those (``make test`` does: see tests/lanes.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from chalicelib.aws import RETRY_CONFIG
from chalicelib.config import Settings
from chalicelib.tables import create_tables
from localdev.endpoint import (
    LOCALSTACK,
    MOTO,
    Endpoint,
    EndpointUnavailable,
    ExternalEndpoint,
    is_url,
    open_endpoint,
)
from tests.conftest import chosen_endpoints
from tests.support.cli import cli_env

pytestmark = pytest.mark.integration
PER_ENDPOINT = pytest.mark.per_endpoint

_MOTO_ONLY: dict[str, str] = {}  # test function's node id -> why it runs on moto only
_NEEDS_AWS: dict[str, str] = {}  # test function's node id -> why it runs on moto and LocalStack only
SERVE_MORE_THAN_DYNAMODB = (MOTO, LOCALSTACK)
_ENDPOINT_OF: dict[str, str] = {}  # test node id -> its endpoint's id
_OUTCOMES: dict[str, Counter[str]] = defaultdict(Counter)  # endpoint id -> outcome -> tests


def endpoint_id(choice: str) -> str:
    return urlsplit(choice).netloc if is_url(choice) else choice


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that (even indirectly) uses ``endpoint`` over the chosen endpoints."""
    if "endpoint" not in metafunc.fixturenames:
        return
    choices = chosen_endpoints(metafunc.config)
    for mark, serving, tally in (("moto_only", (MOTO,), _MOTO_ONLY), ("needs_aws", SERVE_MORE_THAN_DYNAMODB, _NEEDS_AWS)):
        marker = metafunc.definition.get_closest_marker(mark)
        if marker is None:
            continue
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        if not reason:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: {mark} needs a reason")
        tally[metafunc.definition.nodeid] = reason
        choices = [choice for choice in choices if choice in serving]
        if not choices:
            skip = pytest.mark.skip(reason=f"{mark} ({reason}); none of {', '.join(serving)} is among the chosen "
                                           "endpoints")
            metafunc.parametrize("endpoint", [pytest.param(serving[0], marks=[skip, PER_ENDPOINT])], indirect=True,
                                 ids=[serving[0]], scope="session")
            return
    metafunc.parametrize("endpoint", [pytest.param(c, marks=PER_ENDPOINT) for c in choices], indirect=True,
                         ids=[endpoint_id(c) for c in choices], scope="session")


@pytest.fixture(scope="session")
def endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    """The session's endpoint of this test's parameter, started once; a failure to start fails loudly."""
    choice: str = request.param
    server = open_endpoint(choice)
    try:
        if isinstance(server, ExternalEndpoint):
            server.start(require_empty=True)
        else:
            server.start()
    except EndpointUnavailable as error:
        unavailable = str(error)
    else:
        unavailable = ""
    if unavailable:  # outside the except block: one line, no chained traceback
        pytest.fail(f"endpoint {choice} is unavailable: {unavailable}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def endpoint_url(endpoint: Endpoint) -> Iterator[str]:
    endpoint.reset()
    yield endpoint.url


@pytest.fixture
def live_settings(settings: Settings, endpoint_url: str) -> Settings:
    return settings.with_overrides(endpoint_url=endpoint_url)


# What an operator's shell might carry that would change which segment or run a CLI child takes.
RUN_VARIABLES = ("AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ID", "BACKFILL_RUN_ID", "BACKUP_DIR")


@pytest.fixture
def env(live_settings: Settings) -> dict[str, str]:
    """The environment of a CLI child aimed at this test's endpoint and tables, with no run variables."""
    return cli_env({"AWS_ENDPOINT_URL": str(live_settings.endpoint_url), "AWS_REGION": live_settings.region,
                    "EVENTS_TABLE": live_settings.table("events"), "PARTICIPANTS_TABLE": live_settings.table("participants")},
                   drop=RUN_VARIABLES)


@pytest.fixture
def streams(live_settings: Settings) -> Any:
    return boto3.client(
        "dynamodbstreams", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url
    )


@pytest.fixture
def dynamodb(live_settings: Settings, streams: Any) -> Any:
    client = boto3.client(
        "dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
        config=RETRY_CONFIG,
    )
    create_tables(client, live_settings, streams)
    return client


@pytest.fixture
def mirrored() -> Iterator[None]:
    """The events declaration with participantCount kept by a membership mirror
    (``chalicelib.schema.mirrored:EVENTS``) is the active one; used before ``dynamodb`` (a module's
    ``usefixtures``), the mirror table is among the tables created."""
    from chalicelib.schema import use_schema
    from chalicelib.schema.mirrored import EVENTS

    with use_schema(EVENTS):
        yield


@pytest.fixture
def deps(dynamodb: Any, live_settings: Settings) -> Any:
    """The stream handlers' dependencies on this endpoint (the active declaration's)."""
    from chalicelib.streams.dependencies import Dependencies

    return Dependencies(live_settings, dynamodb)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "endpoint" in callspec.params:
            _ENDPOINT_OF[item.nodeid] = endpoint_id(callspec.params["endpoint"])
        marker = item.get_closest_marker("moto_only")
        if marker is not None:  # also tests with a moto server of their own (no endpoint fixture)
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            _MOTO_ONLY.setdefault(item.nodeid.split("[")[0], reason)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Tally each test's outcome under its endpoint (a failed set-up or tear-down is an error)."""
    endpoint = _ENDPOINT_OF.get(report.nodeid)
    if endpoint is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        _OUTCOMES[endpoint][outcome] += 1
    elif report.when == "teardown" and report.failed:
        _OUTCOMES[endpoint]["error"] += 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not _OUTCOMES and not _MOTO_ONLY and not _NEEDS_AWS:
        return
    terminalreporter.section("integration tests per endpoint")
    for endpoint, outcomes in _OUTCOMES.items():
        terminalreporter.write_line(f"{endpoint}: " + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())))
    by_reason: dict[tuple[str, str], int] = Counter(
        (nodeid.split("::")[0], reason) for nodeid, reason in _MOTO_ONLY.items())
    for (path, reason), tests in sorted(by_reason.items()):
        terminalreporter.write_line(f"moto only: {path} ({tests} test{'s' * (tests > 1)}): {reason}")
    needing: dict[tuple[str, str], int] = Counter((nodeid.split("::")[0], reason) for nodeid, reason in _NEEDS_AWS.items())
    for (path, reason), tests in sorted(needing.items()):
        terminalreporter.write_line(f"moto and localstack only: {path} ({tests} test{'s' * (tests > 1)}): {reason}")
