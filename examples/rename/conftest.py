"""The rename example's tests run on the project's own integration fixtures: each test once per chosen
endpoint (a moto server and DynamoDB Local over HTTP by default), with fresh tables."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from chalicelib.schema import Schema, use_schema
from tests.conftest import settings  # noqa: F401  (also sets the fake AWS credentials)
from tests.integration.conftest import (  # noqa: F401
    dynamodb,
    endpoint,
    endpoint_url,
    live_settings,
    pytest_generate_tests,
    streams,
)


@pytest.fixture
def phase() -> Iterator[Callable[[Schema], None]]:
    """``phase(schema)`` makes a phase's declaration the active one for the rest of the test (the
    recipe's "activate and deploy"); a later call replaces it."""
    with ExitStack() as stack:
        yield lambda schema: stack.enter_context(use_schema(schema)) and None
