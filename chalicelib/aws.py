"""boto3 sessions and clients, configured once: adaptive retries, endpoint from settings."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader

from chalicelib.config import Settings

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from boto3.session import Session
    from botocore.client import BaseClient
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient
    from types_boto3_iam import IAMClient
    from types_boto3_lambda import LambdaClient
    from types_boto3_s3 import S3Client
    from types_boto3_sns import SNSClient
    from types_boto3_sqs import SQSClient

# The services the code talks to; each has its client type in the overloads of ``client``.
Service = Literal["dynamodb", "dynamodbstreams", "s3", "lambda", "cloudwatch", "sqs", "sns", "iam"]

# Adaptive mode adds client-side rate limiting on top of exponential backoff when throttled.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": 10},  # the first request included
    max_pool_connections=64,
    connect_timeout=5,
    read_timeout=30,
)


# localstack-client's credentials: LocalStack's default account, never a real one's keys.
LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "accesskey", "aws_secret_access_key": "secretkey",
                          "aws_session_token": "token"}


def localstack_endpoint_url(given: str | None = None) -> str:
    """Where ``--localstack`` reaches LocalStack: the URL given (``--endpoint-url``, or boto3's
    AWS_ENDPOINT_URL), else boto3's AWS_ENDPOINT_URL_DYNAMODB, else localstack-client's conventions
    (LOCALSTACK_HOST=host:port, USE_SSL=1 for https), whose default is http://localhost:4566.
    localstack-client's own session set its URL on every client over the one given, so a LocalStack
    on another port named with ``--endpoint-url`` was never reached."""
    if given:
        return given
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    from localstack_client.config import get_service_endpoint

    return str(get_service_endpoint("dynamodb"))


def make_session(
    *, profile: str | None = None, region: str | None = None, localstack: bool = False
) -> Session:
    """A boto3 session; with ``localstack``, one with localstack-client's placeholder credentials
    (the endpoint is the settings': ``localstack_endpoint_url``)."""
    core = botocore.session.get_session()
    if profile is not None and not localstack:
        core.set_config_variable("profile", profile)
    models = _models(core.get_config_variable("data_path"))  # a missing profile raises here, as it did in boto3
    core.register_component("data_loader", models)
    keys = LOCALSTACK_CREDENTIALS if localstack else {}
    session = boto3.session.Session(botocore_session=core, region_name=region, **keys)  # its profile is set above
    models.search_paths[:] = dict.fromkeys(models.search_paths)  # boto3 appends its data path per session
    return session


@functools.cache
def _models(data_path: str | None) -> Loader:
    """botocore's service models (JSON), read once per process and shared by its sessions: each new
    session read them again, ~90 ms of CPU (the tests make a session per Target, 130 per lane)."""
    return create_loader(data_path)


@overload
def client(session: Session, service: Literal["dynamodb"], settings: Settings) -> DynamoDBClient: ...
@overload
def client(session: Session, service: Literal["dynamodbstreams"], settings: Settings) -> DynamoDBStreamsClient: ...
@overload
def client(session: Session, service: Literal["s3"], settings: Settings) -> S3Client: ...
@overload
def client(session: Session, service: Literal["lambda"], settings: Settings) -> LambdaClient: ...
@overload
def client(session: Session, service: Literal["cloudwatch"], settings: Settings) -> CloudWatchClient: ...
@overload
def client(session: Session, service: Literal["sqs"], settings: Settings) -> SQSClient: ...
@overload
def client(session: Session, service: Literal["sns"], settings: Settings) -> SNSClient: ...
@overload
def client(session: Session, service: Literal["iam"], settings: Settings) -> IAMClient: ...
def client(session: Session, service: Service, settings: Settings) -> BaseClient:
    """A client for ``service`` at the configured endpoint."""
    kwargs: dict[str, Any] = {"region_name": settings.region, "config": RETRY_CONFIG}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    return session.client(service, **kwargs)
