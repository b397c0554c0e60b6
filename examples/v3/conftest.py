"""The example's tests run on the project's own fixtures: a moto server over HTTP, created tables."""

from tests.conftest import settings  # noqa: F401  (also sets the fake AWS credentials)
from tests.integration.conftest import dynamodb, endpoint, endpoint_url, live_settings  # noqa: F401
