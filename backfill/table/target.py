"""Where a command acts: settings, session and lazily created clients."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from botocore.config import Config
from botocore.exceptions import ClientError

from backfill.errors import BadInput, TargetError
from backfill.run.store import Encryption, RunStore, open_store
from backfill.run.store.s3 import BUCKET_DEFAULT
from backfill.table.stage import Stage
from chalicelib.aws import Service, client, make_session
from chalicelib.config import Settings
from chalicelib.schema import active_schema
from chalicelib.schema.active import active_reference
from chalicelib.schema.check import table_problems

if TYPE_CHECKING:  # the stubs are a dev dependency (chalicelib/aws.py)
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

DEFAULT_CONNECT_TIMEOUT = 2.0  # seconds; the CLI's --connect-timeout


@dataclass
class Target:
    """``connect_timeout``: when set (the CLI sets it), the first client made asks the endpoint
    one cheap question with that timeout and one retry, so an endpoint that refuses or never
    answers fails the command in seconds instead of after a run's ten adaptive retries."""

    settings: Settings
    profile: str | None = None
    localstack: bool = False
    connect_timeout: float | None = None
    store_encryption: Encryption = BUCKET_DEFAULT  # of every object written to an s3:// run store
    stage: Stage | None = None  # the Chalice stage named with --stage
    _session: Session | None = field(default=None, repr=False)
    _reached: bool = field(default=False, repr=False)
    _store_reached: bool = field(default=False, repr=False)  # an s3:// run store's endpoint answered

    @cached_property
    def session(self) -> Session:
        return self._session or make_session(
            profile=self.profile, region=self.settings.region, localstack=self.localstack
        )

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self.client("dynamodb")

    @cached_property
    def streams(self) -> DynamoDBStreamsClient:
        return self.client("dynamodbstreams")

    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def client(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def client(self, service: Literal["iam"]) -> IAMClient: ...
    def client(self, service: Service) -> BaseClient:
        """A client for ``service`` at the target's endpoint, once the endpoint is known to answer."""
        self.check_reachable()
        return client(self.session, service, self.settings)

    def check_reachable(self) -> None:
        """Raise botocore's connection or timeout error within about 2 x ``connect_timeout`` if the
        endpoint does not answer. Any answer, an error included (a role without ListTables), is
        an endpoint that answers: the command's own requests then report what is wrong."""
        if self.connect_timeout is None or self._reached:
            return
        probe_config = Config(connect_timeout=self.connect_timeout, read_timeout=self.connect_timeout,
                              retries={"mode": "standard", "total_max_attempts": 2})
        kwargs: dict[str, Any] = {"region_name": self.settings.region, "config": probe_config}
        if self.settings.endpoint_url:
            kwargs["endpoint_url"] = self.settings.endpoint_url
        probe = self.session.client("dynamodb", **kwargs)
        with contextlib.suppress(ClientError):
            probe.list_tables(Limit=1)
        self._reached = True

    def run_store(self, location: str | Path | RunStore) -> RunStore:
        """The run store at ``location``; an s3:// store uses this target's credentials, endpoint
        and encryption choice."""
        probe = self.connect_timeout if str(location).startswith("s3://") and not self._store_reached else None
        store = open_store(location, session=self.session, endpoint_url=self.settings.endpoint_url,
                           encryption=self.store_encryption, connect_timeout=probe)
        self._store_reached = self._store_reached or probe is not None
        return store

    def require_stage(self, command: str) -> Stage:
        """The stage ``command`` acts on (its deployed functions); BadInput without --stage."""
        if self.stage is None:
            raise BadInput(f"{command} needs --stage NAME: the Chalice stage whose deployed functions it acts on",
                           hint="e.g. --stage dev (the stages are in .chalice/config.json)")
        return self.stage

    @property
    def endpoint(self) -> str:
        return self.dynamodb.meta.endpoint_url

    def require_tables(self, *tables: str) -> None:
        """Fail before any other request, naming table, endpoint and region, if a table is missing.

        (DynamoDB's own ResourceNotFoundException names neither the table nor the region.)
        """
        for table in dict.fromkeys(tables):
            try:
                self.dynamodb.describe_table(TableName=table)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                raise TargetError(
                    f"table {table!r} does not exist at {self.endpoint} in region {self.settings.region}",
                    hint="check the table name options (--table DECLARED=ACTUAL, <DECLARED>_TABLE) and --region: tables are per region",
                ) from error

    def require_declared_tables(self, *others: str) -> None:
        """``require_tables`` of every table the active declaration names (and ``others``), then
        refuse (exit 2) a declaration whose keys are not the tables' (DescribeTable's KeySchema)."""
        schema = active_schema()
        names = {declared: self.settings.table(declared) for declared in schema.named_tables}
        try:
            self.require_tables(*names.values(), *others)
        except TargetError as error:  # the usual cause on another team's endpoint: the wrong declaration
            raise TargetError(f"{error} (declaration {active_reference()})",
                              hint=f"{error.hint}; another declaration: --schema MODULE:NAME or "
                                   "DYNAMO_EVOLVE_SCHEMA (docs/declaration.md)") from error
        problems = table_problems(schema, lambda name: self.dynamodb.describe_table(TableName=name)["Table"], names)
        if problems:
            raise BadInput(f"declaration {active_reference()}: {'; '.join(problems)}",
                           hint="see docs/declaration.md")

    def count_items(self, table: str) -> int:
        """Exact item count (a COUNT scan; DescribeTable's ItemCount lags by hours on AWS)."""
        total = 0
        kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
        while True:
            page = self.dynamodb.scan(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def describe(self, *, counts: bool = True) -> dict[str, Any]:
        """What a destructive command shows before it asks for confirmation."""
        declared = active_schema().tables  # its own table, then each aggregate's source
        summary: dict[str, Any] = {"endpoint": self.endpoint, "region": self.settings.region}
        summary.update({f"{name}_table": self.settings.table(name) for name in declared})
        if counts:  # items per table, under the declared name
            summary.update({name: self.count_items(self.settings.table(name)) for name in declared})
        return summary
