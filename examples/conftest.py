"""Every example's tests run on the project's own integration fixtures: each test once per chosen
endpoint (a moto server and DynamoDB Local over HTTP by default), with fresh tables. An example's
own conftest.py adds what is particular to it (orders replaces ``dynamodb`` with its own tables)."""

from tests.conftest import settings  # noqa: F401  (also sets the fake AWS credentials)
from tests.integration.conftest import (  # noqa: F401
    dynamodb,
    endpoint,
    endpoint_url,
    live_settings,
    pytest_generate_tests,
    streams,
)
