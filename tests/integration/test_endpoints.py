"""Choosing an endpoint: a choice that cannot be used fails loudly and never falls back."""

from __future__ import annotations

import http.client
import socket
import threading
from typing import Any

import pytest

from localdev import dynamodb_local
from localdev.endpoint import (
    DynamoDBLocalEndpoint,
    EndpointUnavailable,
    ExternalEndpoint,
    MotoEndpoint,
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
    with pytest.raises(ValueError, match="unknown endpoint 'local-stack': use moto, dynamodb-local, localstack or an "
                                         "http"):
        check_choice("local-stack")
    with pytest.raises(ValueError):
        open_endpoint("dynamo-local")


def _list_tables(connection: http.client.HTTPConnection) -> int:
    connection.request("POST", "/", body=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261204/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    response = connection.getresponse()
    response.read()
    return response.status


def test_the_moto_endpoint_keeps_connections_open_and_frees_its_port_when_stopped() -> None:
    # given a moto endpoint of its own
    endpoint = MotoEndpoint().start()
    try:
        # when one connection sends two requests
        connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
        assert _list_tables(connection) == 200
        first_socket = connection.sock
        assert _list_tables(connection) == 200
        # then the server kept it open (a "Connection: close" answer makes http.client drop it)
        assert first_socket is not None and connection.sock is first_socket
        connection.close()
    finally:
        endpoint.stop()
    # and once stopped, nothing listens on its port and no server thread is left
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", endpoint.port)) != 0
    assert not [t for t in threading.enumerate() if t.name == f"moto:{endpoint.port}"]
