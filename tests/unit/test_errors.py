"""backfill.errors.explain: each class of failure -> one line naming the thing, and its exit code.

Inputs are the exceptions botocore and the OS raise, built the way they build them (the error
responses in AWS's documented JSON error shape, and moto's XML one)."""

from __future__ import annotations

import errno

import pytest
import urllib3.exceptions
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    ReadTimeoutError,
)

from backfill.errors import BadInput, ExitCode, TargetError, explain


def client_error(code: str, message: str, status: int = 400, operation: str = "Scan") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def refused() -> EndpointConnectionError:
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        except ConnectionRefusedError as cause:
            raise urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection") from cause
    except urllib3.exceptions.NewConnectionError as wrapped:
        return EndpointConnectionError(endpoint_url="http://127.0.0.1:8000/", error=wrapped)


def test_connection_refused_names_endpoint_and_reason():
    failure = explain(refused())
    assert failure.exit_code is ExitCode.TARGET
    assert failure.message == "cannot reach the endpoint http://127.0.0.1:8000/: Connection refused"


@pytest.mark.parametrize("error", [
    ConnectTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/", error="timed out"),
    ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/", error="read timed out"),
])
def test_timeouts_name_the_endpoint(error):
    failure = explain(error)
    assert failure.exit_code is ExitCode.TARGET and "dynamodb.eu-west-1.amazonaws.com" in failure.message


@pytest.mark.parametrize(("code", "status", "words"), [
    ("UnrecognizedClientException", 400, "credentials rejected"),
    ("InvalidSignatureException", 400, "credentials rejected"),
    ("ExpiredTokenException", 400, "credentials rejected"),
    ("AccessDeniedException", 400, "access denied"),
    ("403", 403, "access denied"),
    ("ResourceNotFoundException", 400, "not found"),
    ("ProvisionedThroughputExceededException", 400, "throttled"),
    ("ValidationException", 400, "refused"),
])
def test_dynamodb_error_codes(code, status, words):
    failure = explain(client_error(code, "the service's words", status), where="http://x:1 in region eu-west-1")
    assert failure.exit_code is ExitCode.TARGET
    assert words in failure.message and "the service's words" in failure.message
    assert "http://x:1 in region eu-west-1" in failure.message and "(Scan)" in failure.message


def test_an_xml_error_document_is_read_for_its_code_and_message():
    xml = ('<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>AccessDenied</Code>'
           "<Message>User: arn:aws:iam::1:user/r is not authorized to perform: dynamodb:Scan</Message>"
           "</Error></Errors></ErrorResponse>")
    failure = explain(client_error("403", xml, 403))
    assert failure.message == ("access denied (Scan): AccessDenied: User: arn:aws:iam::1:user/r is not authorized "
                               "to perform: dynamodb:Scan")
    assert "\n" not in failure.message


def test_credentials_and_profiles():
    assert explain(NoCredentialsError()).exit_code is ExitCode.TARGET
    profile = explain(ProfileNotFound(profile="prod-admin"))
    assert profile.exit_code is ExitCode.TARGET and "'prod-admin'" in profile.message
    assert explain(NoRegionError()).exit_code is ExitCode.BAD_INPUT


@pytest.mark.parametrize(("error", "words"), [
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/data/notes.txt/backups"), "a part of the path is a regular file"),
    (PermissionError(errno.EACCES, "Permission denied", "/backups/run.jsonl.gz"), "Permission denied"),
    (OSError(errno.ENOSPC, "No space left on device", "/backups/run.jsonl.gz"), "No space left"),
])
def test_local_file_errors_name_the_path(error, words):
    failure = explain(error)
    assert failure.exit_code is ExitCode.BAD_INPUT
    assert error.filename in failure.message and words in failure.message


def test_typed_errors_keep_their_message_hint_and_code():
    assert explain(BadInput("ledger x line 2 is garbled", hint="fix it")) == explain(BadInput("ledger x line 2 is garbled", hint="fix it"))
    failure = explain(TargetError("table 't' does not exist", hint="check --region"))
    assert (failure.message, failure.hint, failure.exit_code) == ("table 't' does not exist", "check --region", ExitCode.TARGET)


def test_anything_else_is_unexpected_with_the_debug_hint():
    failure = explain(ZeroDivisionError("division by zero"))
    assert failure.exit_code is ExitCode.INTERNAL and failure.unexpected
    assert failure.message == "unexpected error: ZeroDivisionError: division by zero"
    assert "--debug" in (failure.hint or "")


def test_interrupt_is_130():
    assert explain(KeyboardInterrupt()).exit_code == 130
