"""What a failed command tells the operator: one line naming the thing and the reason, and an
exit code a script can act on. Pure: ``explain`` maps an exception to a ``Failure``; the CLI
entry point prints it (``backfill.cli.main``).

Exit codes (also in ``backfill --help`` and docs/reference/exit-codes.md):
  0    ok
  1    items failed or were refused, restore conflicts, verify findings (the report lists them)
  2    usage or bad input: an option, a local file or directory, a damaged backup/ledger/checkpoint
  3    refused: a command that writes needs confirmation (no terminal and no --yes, or answered no);
       restore while the live path runs (without --pause-live-path or --live-path-running);
       migrate when no row of the aggregate's source belongs to an item (without --accept-zero-counts)
  4    the target: endpoint unreachable, credentials missing or rejected, access denied, table missing
  5    unexpected error (a bug): run again with --debug for the traceback
  130  interrupted (Ctrl-C); a migration prints the --resume command that continues it
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from enum import IntEnum

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
)
from botocore.exceptions import (
    ConnectionError as EndpointUnreachable,
)


class ExitCode(IntEnum):
    OK = 0
    ITEMS_FAILED = 1
    BAD_INPUT = 2
    REFUSED = 3
    TARGET = 4
    INTERNAL = 5
    INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 items failed or refused, conflicts, verify findings; 2 usage or bad "
    "input (option, file, directory, damaged backup/ledger/checkpoint); 3 refused without "
    "confirmation, restore while the live path runs, --stage's live path on another schema version, or "
    "--require-pitr and PITR off, no source row of the aggregate belongs to an item, or the live path "
    "after a rollback; 4 endpoint, credentials, access or table problem; 5 unexpected error (--debug "
    "shows the traceback); 130 interrupted."
)

DEBUG_HINT = "run again with --debug (or BACKFILL_DEBUG=1) for the traceback, and please report it"


class CliError(Exception):
    """An error whose message already names the thing and the reason; ``hint`` says what to do."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class BadInput(CliError):
    """An option, a local file or directory, or a file the tool wrote earlier is unusable."""

    exit_code = ExitCode.BAD_INPUT


class TargetError(CliError):
    """The DynamoDB side: unreachable, credentials, access, or a table that is not there."""

    exit_code = ExitCode.TARGET


class Unverifiable(CliError):
    """Verify cannot judge the table (its snapshot is unusable): a finding, not bad input."""

    exit_code = ExitCode.ITEMS_FAILED


class ChildrenEnded(CliError):
    """Child processes of a ``--processes`` run ended without saying why (see their logs)."""

    exit_code = ExitCode.INTERNAL


class Refused(CliError):
    """A writing command was not confirmed, or may not run now (restore while the live path runs,
    point-in-time recovery off under --require-pitr)."""

    exit_code = ExitCode.REFUSED


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: ExitCode
    hint: str | None = None

    @property
    def unexpected(self) -> bool:
        return self.exit_code is ExitCode.INTERNAL


# DynamoDB error codes (and HTTP statuses) that mean the caller's credentials were not accepted.
_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
}
_ACCESS_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"}
_THROTTLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
}
_CREDENTIALS_HINT = "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile/AWS_PROFILE, or `aws sso login`"


def explain(error: BaseException, *, where: str | None = None) -> Failure:
    """One line (and maybe a hint) plus the exit code for ``error``. Never raises.

    ``where`` names the DynamoDB endpoint and region the command was talking to, for errors
    whose own text does not (a ClientError never names them)."""
    if isinstance(error, CliError):
        code = error.exit_code
        if code is ExitCode.BAD_INPUT and isinstance(error.__cause__, (BotoCoreError, ClientError)):
            code = ExitCode.TARGET  # e.g. a run store on S3 that cannot be reached: the AWS side
        return Failure(str(error), code, error.hint)
    if isinstance(error, KeyboardInterrupt):
        return Failure("interrupted", ExitCode.INTERRUPTED)
    if isinstance(error, (ConnectTimeoutError, ReadTimeoutError)):
        return _timeout(error)
    if isinstance(error, EndpointUnreachable):  # botocore's: refused, closed, proxy
        return _connection(error)
    if isinstance(error, ProfileNotFound):
        return Failure(f"AWS profile {error.kwargs.get('profile')!r} does not exist", ExitCode.TARGET,
                       "list profiles with `aws configure list-profiles`; or unset --profile/AWS_PROFILE")
    if isinstance(error, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError)):
        return Failure(f"no usable AWS credentials: {error}", ExitCode.TARGET, _CREDENTIALS_HINT)
    if isinstance(error, NoRegionError):
        return Failure("no AWS region given", ExitCode.BAD_INPUT, "pass --region or set AWS_REGION")
    if isinstance(error, (InvalidRegionError, ParamValidationError)):  # a value the client refuses to send
        return Failure(_one_line(str(error)), ExitCode.BAD_INPUT)
    if isinstance(error, ClientError):
        return _client_error(error, f" at {where}" if where else "")
    if isinstance(error, BotoCoreError):
        return Failure(f"AWS client error: {_one_line(str(error))}", ExitCode.TARGET)
    if isinstance(error, OSError) and error.filename is not None:
        return _file_error(error)
    return Failure(f"unexpected error: {type(error).__name__}: {_one_line(str(error))}", ExitCode.INTERNAL, DEBUG_HINT)


def _connection(error: EndpointUnreachable) -> Failure:
    endpoint = error.kwargs.get("endpoint_url", "the endpoint")
    reason = _root_os_error(error.kwargs.get("error"))
    text = reason.strerror if reason is not None and reason.strerror else str(error.kwargs.get("error") or error)
    return Failure(f"cannot reach the endpoint {endpoint}: {text}", ExitCode.TARGET,
                   "is the server running and --endpoint-url/AWS_ENDPOINT_URL right?")


def _timeout(error: ConnectTimeoutError | ReadTimeoutError) -> Failure:
    endpoint = error.kwargs.get("endpoint_url", "the endpoint")
    what = "a connection" if isinstance(error, ConnectTimeoutError) else "a request"
    return Failure(f"the endpoint {endpoint} did not answer {what} in time", ExitCode.TARGET,
                   "is --endpoint-url/AWS_ENDPOINT_URL right and the server up? A slow but working "
                   "endpoint needs a longer --connect-timeout")


def _root_os_error(error: object) -> OSError | None:
    """The innermost OSError (e.g. ConnectionRefusedError) under urllib3's wrappers."""
    found = None
    seen = 0
    while isinstance(error, BaseException) and seen < 20:
        if isinstance(error, OSError) and error.errno is not None:
            found = error
        error = error.__cause__ or error.__context__
        seen += 1
    return found


def _client_error(error: ClientError, at: str) -> Failure:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = _one_line(str(details.get("Message", "")))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    operation = error.operation_name
    if message.startswith("<"):  # some endpoints answer a JSON API with an XML error document
        code = _xml_field(message, "Code") or code
        message = _xml_field(message, "Message") or _html_summary(message, status)
    said = f"{code}: {message}" if message else code
    if code in _CREDENTIAL_CODES:
        return Failure(f"credentials rejected{at} ({operation}): {said}", ExitCode.TARGET, _CREDENTIALS_HINT)
    if code in _ACCESS_CODES or status == 403:
        return Failure(f"access denied{at} ({operation}): {said}", ExitCode.TARGET,
                       "the credentials need the DynamoDB permissions the command uses on these tables")
    if code == "ResourceNotFoundException":
        return Failure(f"not found{at} ({operation}): {said}", ExitCode.TARGET,
                       "check the table names and --region (tables are per region)")
    if code in _THROTTLE_CODES:
        return Failure(f"throttled after retries{at} ({operation}): {said}", ExitCode.TARGET,
                       "lower --writers or set --rate-limit")
    return Failure(f"refused{at} ({operation}): {said}", ExitCode.TARGET)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _html_summary(document: str, status: object) -> str:
    """An HTML error page (a proxy or load balancer answered) as one line: status and title."""
    title = _xml_field(document, "title") or _xml_field(document, "h1")
    return f"HTTP {status} with an HTML error page" + (f" ({title!r})" if title else "")


def _xml_field(document: str, name: str) -> str | None:
    found = re.search(rf"<{name}>(.*?)</{name}>", document, re.DOTALL)
    return found.group(1).strip() if found else None


def _file_error(error: OSError) -> Failure:
    path = error.filename
    reason = error.strerror or str(error)
    if error.errno == errno.ENOTDIR:
        reason = f"{reason} (a part of the path is a regular file)"
    return Failure(f"cannot use {path}: {reason}", ExitCode.BAD_INPUT)
