"""Choosing an endpoint: a choice that cannot be used fails loudly and never falls back."""

from __future__ import annotations

from typing import Any

import pytest

from localdev import dynamodb_local
from localdev.endpoint import (
    DynamoDBLocalEndpoint,
    EndpointUnavailable,
    ExternalEndpoint,
    check_choice,
    free_port,
    open_endpoint,
)


def test_an_external_endpoint_with_tables_is_refused_for_the_tests(dynamodb: Any, endpoint_url: str) -> None:
    # given an endpoint that already holds tables (created by the dynamodb fixture)
    # when the tests are pointed at it, then they refuse to drop someone's tables
    with pytest.raises(EndpointUnavailable, match=r"already has 3 table\(s\) \(.*events.*\).*empty endpoint"):
        ExternalEndpoint(endpoint_url).start(require_empty=True)
    # and nothing was dropped
    assert len(dynamodb.list_tables()["TableNames"]) == 3


def test_an_external_endpoint_that_does_not_answer_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EndpointUnavailable, match=f"endpoint {url} does not answer DynamoDB ListTables"):
        ExternalEndpoint(url).start()


def test_dynamodb_local_without_java_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # given DynamoDB Local installed but no java on PATH
    dynamodb_local.install()
    monkeypatch.setenv("PATH", "/nonexistent")
    # when it is started, then the error names java and how to get it
    with pytest.raises(EndpointUnavailable, match="dynamodb-local: DynamoDB Local needs java.*openjdk-17"):
        DynamoDBLocalEndpoint().start()


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown endpoint 'localstack': use moto, dynamodb-local or an http"):
        check_choice("localstack")
    with pytest.raises(ValueError):
        open_endpoint("dynamo-local")
