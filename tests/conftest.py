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
from localdev.endpoint import check_choice  # noqa: E402

DEFAULT_TEST_ENDPOINTS = "moto,dynamodb-local"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--endpoint", action="append", dest="endpoints", metavar="NAME|URL",
        help="endpoint(s) the integration tests run against, repeatable: moto, dynamodb-local or an "
             "http(s):// URL of an EMPTY endpoint (LocalStack; every table there is dropped between "
             f"tests). Env: TEST_ENDPOINTS=a,b. Default: {DEFAULT_TEST_ENDPOINTS}.",
    )


def chosen_endpoints(config: pytest.Config) -> list[str]:
    """The endpoints the integration tests run against, in the order given."""
    chosen = config.getoption("endpoints", None) or (os.environ.get("TEST_ENDPOINTS") or DEFAULT_TEST_ENDPOINTS).split(",")
    try:
        return [check_choice(name.strip()) for name in chosen if name.strip()]
    except ValueError as error:
        raise pytest.UsageError(f"--endpoint/TEST_ENDPOINTS: {error}") from None


def pytest_configure(config: pytest.Config) -> None:
    chosen_endpoints(config)  # a wrong name stops the run before collection


@pytest.fixture
def settings() -> Settings:
    return Settings(
        failures_table="migration-failures",
        region="us-east-1",
    )


@pytest.fixture(autouse=True)
def _cli_never_shows_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every in-process CLI run (click's CliRunner) is checked like the subprocess ones in
    tests/support/cli.py: no traceback in its output, no exception escaping the command."""
    from click.testing import CliRunner, Result

    from tests.support.cli import assert_no_traceback

    invoke = CliRunner.invoke

    def checked(self: CliRunner, *args: object, **kwargs: object) -> Result:
        result = invoke(self, *args, **kwargs)  # type: ignore[arg-type]
        assert_no_traceback(result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    monkeypatch.setattr(CliRunner, "invoke", checked)
