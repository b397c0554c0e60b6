"""DynamoDB + DynamoDB Streams HTTP endpoints for the tests, the demo and the benchmarks.

Chosen by name, never guessed: ``moto`` (moto served by waitress in this process; the default),
``dynamodb-local`` (AWS's DynamoDB Local, a Java process on a free port), ``localstack`` (LocalStack
on the host, without Docker, on a free port) or an ``http(s)://`` URL (a LocalStack someone else
runs, or test tables in a real account). A choice that cannot be reached raises
``EndpointUnavailable``; nothing falls back to another endpoint. boto3 reaches every endpoint only
through its URL, exactly as it reaches AWS. moto needs the dev extra (moto[server], waitress).
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from botocore.config import Config

from chalicelib.aws import make_session
from localdev import dynamodb_local, localstack

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from botocore.client import BaseClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef
    from types_boto3_sns import SNSClient
    from types_boto3_sqs import SQSClient

MOTO = "moto"
DYNAMODB_LOCAL = "dynamodb-local"
LOCALSTACK = "localstack"
NAMED_ENDPOINTS = (MOTO, DYNAMODB_LOCAL, LOCALSTACK)
START_TIMEOUT_S = 60.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Short timeouts and one retry: an endpoint that does not answer must be reported, not awaited.
# (`total_max_attempts` counts the first request too; botocore's `max_attempts` counts only retries.)
_PROBE_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 2})


class EndpointUnavailable(RuntimeError):
    """The chosen endpoint cannot be started or reached."""


class Endpoint(Protocol):
    name: str
    url: str

    def start(self) -> Endpoint: ...
    def reset(self) -> None: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Endpoint: ...
    def __exit__(self, *exc: object) -> None: ...


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen[Any] | None) -> None:
    """Stop a server running in a child process: terminate, and kill it if it lingers 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def is_url(choice: str) -> bool:
    return choice.startswith(("http://", "https://"))


def check_choice(choice: str) -> str:
    """``choice`` if it names an endpoint, else ValueError saying what would."""
    if choice in NAMED_ENDPOINTS or is_url(choice):
        return choice
    raise ValueError(f"unknown endpoint {choice!r}: use {', '.join(NAMED_ENDPOINTS)} or an http(s):// URL")


def open_endpoint(choice: str) -> Endpoint:
    """The endpoint named ``choice`` (not started yet: use it as a context manager)."""
    if check_choice(choice) == MOTO:
        return MotoEndpoint()
    if choice == DYNAMODB_LOCAL:
        return DynamoDBLocalEndpoint()
    if choice == LOCALSTACK:
        return LocalStackEndpoint()
    return ExternalEndpoint(choice)


@functools.cache
def dynamodb_client(url: str) -> DynamoDBClient:
    """A client for ``url`` with the ambient credentials, or placeholder keys where there are none
    (local endpoints accept any; AWS refuses them loudly). One per URL and process: every test's
    reset used to make a new session, whose loading of botocore's JSON models cost more than the
    reset itself (clients are thread-safe)."""
    session = make_session()
    placeholder = None if session.get_credentials() else "local"
    return session.client("dynamodb", region_name="us-east-1", endpoint_url=url, config=_PROBE_CONFIG,
                          aws_access_key_id=placeholder, aws_secret_access_key=placeholder)


def table_names(dynamodb: DynamoDBClient) -> list[str]:
    return list(dynamodb.get_paginator("list_tables").paginate().build_full_result()["TableNames"])


def drop_all_tables(url: str) -> None:
    """Delete every table at ``url`` and wait until each is gone (LocalStack deletes lazily)."""
    dynamodb = dynamodb_client(url)
    names = table_names(dynamodb)
    for name in names:
        dynamodb.delete_table(TableName=name)
    for name in names:
        dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1})


class _ContextManaged:
    def start(self) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _list_moto_modules_once() -> None:
    """moto's server lists its package directory on every request to find the backend (moto 5.2:
    ``moto.backends.list_of_moto_modules``, about 6 % of a moto test lane's CPU, measured with
    py-spy). The list cannot change while the process runs, so it is read once."""
    from moto import backends

    if getattr(backends.list_of_moto_modules, "cached", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def listed_once() -> tuple[str, ...]:
        return modules

    listed_once.cached = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = listed_once


class MotoEndpoint(_ContextManaged):
    """moto in this process: the WSGI application moto's own server runs, served by waitress;
    ``reset`` wipes it through moto's own API.

    Not moto's ThreadedMotoServer: its werkzeug server closes the connection after every
    response and starts a thread per connection, so each request also paid a TCP connect and a
    thread, client side included (`python -m bench.moto_server` compares the two:
    bench/moto_server.md). waitress keeps connections open, as AWS does, and serves them from a
    pool of threads. The port is the one the listening socket got, never a guess.
    """

    name = MOTO
    THREADS = 16  # requests served at once: the CLI's --writers and the tests' own threads
    TURN_S = 0.2  # the longest the loop waits for a socket before it looks at the stop flag

    def __init__(self) -> None:
        try:
            import waitress
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                create_backend_app,
            )
        except ImportError as error:  # moto and waitress are dev dependencies, not needed against AWS
            raise EndpointUnavailable("the moto endpoint needs the dev extra (moto[server], waitress): "
                                      "pip install -e '.[dev]'") from error

        _list_moto_modules_once()
        app = DomainDispatcherApplication(create_backend_app)
        self._server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=self.THREADS,
                                                   ident="moto")
        self.port = int(self._server.effective_port)
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> MotoEndpoint:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name=f"moto:{self.port}", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        """waitress's loop, a turn at a time, until ``stop``; then every connection and the
        listening socket are closed here, in the thread that owns them (stop waits at most a turn)."""
        connections = self._server._map
        while not self._stopping.is_set():
            self._server.asyncore.loop(timeout=self.TURN_S, map=connections, count=1)
        for channel in list(connections.values()):
            channel.close()

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=10)
        self._server.task_dispatcher.shutdown()
        self._thread = None


class DynamoDBLocalEndpoint(_ContextManaged):
    """AWS's DynamoDB Local in a child Java process, in memory; ``reset`` drops every table.

    It listens on all interfaces (it has no option to bind loopback only), on a free port, and
    only while this object is started.
    """

    name = DYNAMODB_LOCAL

    def __init__(self, jvm_flags: tuple[str, ...] = dynamodb_local.JVM_FLAGS) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.jvm_flags = jvm_flags
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    def start(self) -> DynamoDBLocalEndpoint:
        try:
            jar = dynamodb_local.install()
            command = dynamodb_local.java_command(jar, self.port, self.jvm_flags)
        except dynamodb_local.DynamoDBLocalMissing as error:
            raise EndpointUnavailable(f"dynamodb-local: {error}") from error
        log = tempfile.NamedTemporaryFile(prefix="dynamodb-local-", suffix=".log", delete=False)  # noqa: SIM115
        self._log_path = Path(log.name)
        self._process = subprocess.Popen(command, cwd=jar.parent, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EndpointUnavailable(f"dynamodb-local exited during start-up (code {self._process.returncode}): "
                                          f"{self._log_tail()}")
            if _answers_http(self.url):
                return self
            time.sleep(0.2)
        self.stop()
        raise EndpointUnavailable(f"dynamodb-local did not answer on {self.url} within {START_TIMEOUT_S:.0f} s: "
                                  f"{self._log_tail()}")

    def reset(self) -> None:
        drop_all_tables(self.url)

    @property
    def pid(self) -> int | None:
        """The Java process's id while started."""
        return self._process.pid if self._process else None

    def stop(self) -> None:
        stop_process(self._process)
        self._process = None
        if self._log_path:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def _log_tail(self) -> str:
        text = self._log_path.read_text(errors="replace") if self._log_path else ""
        return text.strip()[-800:] or "(no output)"


class LocalStackEndpoint(_ContextManaged):
    """LocalStack on the host in a child process (no Docker), on a free loopback port: DynamoDB and
    its streams, S3, SQS, SNS, CloudWatch and KMS at one URL. ``reset`` drops every table, bucket,
    queue and topic (LocalStack has no reset of its own).

    Installed by ``make localstack`` (``localdev.localstack``); started here with nothing to
    download. Its DynamoDB is a DynamoDB Local JVM that LocalStack starts at the first DynamoDB
    call, so ``start`` makes that call with a long timeout: a test's short one would meet the JVM's
    start-up. Stopped with SIGTERM (LocalStack then stops its JVM), and killed with its children
    if it lingers; a test run that is killed takes it along (the parent-death signal).
    """

    name = LOCALSTACK
    STOP_TIMEOUT_S = 20.0  # it stops in 3-10 s

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._root: Path | None = None

    def start(self) -> LocalStackEndpoint:
        try:
            directory = localstack.install()
        except localstack.LocalStackMissing as error:
            raise EndpointUnavailable(f"localstack: {error}") from error
        self._root = localstack.instance_root(directory)
        log = tempfile.NamedTemporaryFile(prefix="localstack-", suffix=".log", delete=False)  # noqa: SIM115
        self._log_path = Path(log.name)
        # Not the caller's AWS or LocalStack settings, and bytecode written: its virtualenv is installed
        # uncompiled, and CI's machines set PYTHONDONTWRITEBYTECODE (every start would compile again).
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith(("AWS_", "LOCALSTACK_", "PROVIDER_OVERRIDE_", "DYNAMODB_"))
                       and name != "PYTHONDONTWRITEBYTECODE"}
        self._process = subprocess.Popen(localstack.command(directory), cwd=directory, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**environment, **localstack.settings(self.port, self._root)},
                                         start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        try:
            self._wait_until_serving()
        except EndpointUnavailable:
            self.stop()
            raise
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self._process is not None
        while not _answers_http(f"{self.url}/_localstack/health"):
            if self._process.poll() is not None:
                raise EndpointUnavailable(f"localstack exited during start-up (code {self._process.returncode}): "
                                          f"{self._log_tail()}")
            if time.monotonic() > deadline:
                raise EndpointUnavailable(f"localstack did not answer on {self.url} within {START_TIMEOUT_S:.0f} s: "
                                          f"{self._log_tail()}")
            time.sleep(0.2)
        warm_up = Config(connect_timeout=3, read_timeout=START_TIMEOUT_S, retries={"total_max_attempts": 1})
        try:
            make_session().client("dynamodb", region_name="us-east-1", endpoint_url=self.url, config=warm_up,
                                  aws_access_key_id="local", aws_secret_access_key="local").list_tables()
        except Exception as error:  # whatever kept its DynamoDB from starting, with its log
            raise EndpointUnavailable(f"localstack's DynamoDB did not start: {error}: {self._log_tail()}") from error

    def reset(self) -> None:
        forget_table_settings(self.url)
        drop_all_tables(self.url)
        drop_all_other_resources(self.url)

    @property
    def pid(self) -> int | None:
        """LocalStack's process id while started."""
        return self._process.pid if self._process else None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            children = descendants(process.pid)  # its DynamoDB Local JVM
            process.terminate()
            try:
                process.wait(timeout=self.STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                children = descendants(process.pid) or children
                process.kill()
                process.wait()
            for child in children:
                _kill_if_alive(child)
        if self._root:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        if self._log_path:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def _log_tail(self) -> str:
        text = self._log_path.read_text(errors="replace") if self._log_path else ""
        return text.strip()[-800:] or "(no output)"


def descendants(pid: int) -> list[int]:
    """The ids of ``pid``'s children, theirs, and so on (Linux's /proc; empty elsewhere)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found


def _kill_if_alive(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@overload
def _client(url: str, service: Literal["s3"]) -> S3Client: ...
@overload
def _client(url: str, service: Literal["sqs"]) -> SQSClient: ...
@overload
def _client(url: str, service: Literal["sns"]) -> SNSClient: ...
@functools.cache
def _client(url: str, service: Literal["s3", "sqs", "sns"]) -> BaseClient:
    """A client for ``service`` at a local ``url`` (placeholder keys), one per URL and process."""
    return make_session().client(service, region_name="us-east-1", endpoint_url=url, config=_PROBE_CONFIG,
                                 aws_access_key_id="local", aws_secret_access_key="local")


def forget_table_settings(url: str) -> None:
    """Turn off TTL and point-in-time recovery on every table at ``url``: LocalStack (4.8.1) keeps
    them by table name after the table is deleted, so the next table of that name started with them
    (on AWS a new table has neither)."""
    dynamodb = dynamodb_client(url)
    for name in table_names(dynamodb):
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": False, "AttributeName": ttl["AttributeName"]})
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED":
            dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": False})


def drop_all_other_resources(url: str) -> None:
    """Every S3 bucket (emptied first), SQS queue and SNS topic at a local ``url``: what a test
    leaves there besides tables (moto's reset does the same for moto)."""
    s3 = _client(url, "s3")
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed: list[ObjectIdentifierTypeDef] = [{"Key": entry["Key"], "VersionId": entry["VersionId"]}
                                                   for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=name)
    sqs = _client(url, "sqs")
    for queue_url in sqs.list_queues().get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=queue_url)
    sns = _client(url, "sns")
    for topic in sns.list_topics().get("Topics", []):
        sns.delete_topic(TopicArn=topic["TopicArn"])


class ExternalEndpoint(_ContextManaged):
    """An endpoint someone else runs (LocalStack, AWS): checked on start, never started or stopped.

    ``reset`` drops every table at the URL, so ``start(require_empty=True)`` (what the tests do)
    refuses an endpoint that already holds tables: the tests must not delete anyone's data.
    """

    name = "external"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def start(self, *, require_empty: bool = False) -> ExternalEndpoint:
        try:
            existing = table_names(dynamodb_client(self.url))
        except Exception as error:  # any failure to answer ListTables means "not usable"
            raise EndpointUnavailable(f"endpoint {self.url} does not answer DynamoDB ListTables: {error}") from error
        if require_empty and existing:
            shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise EndpointUnavailable(f"endpoint {self.url} already has {len(existing)} table(s) ({shown}); the tests "
                                      "delete every table between tests, so give them an empty endpoint")
        return self

    def reset(self) -> None:
        drop_all_tables(self.url)

    def stop(self) -> None:
        """Nothing to stop: the endpoint is not ours."""


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the starting process dies, so a test
    run that is killed (no teardown) leaves no DynamoDB Local listening on every interface."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _answers_http(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).read()
    except urllib.error.HTTPError:
        return True  # any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is up
    except OSError:
        return False
    return True
