"""Where a command acts: settings, session and lazily created clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from backfill.errors import TargetError
from backfill.run.store import Encryption, RunStore, open_store
from backfill.run.store.s3 import BUCKET_DEFAULT
from chalicelib.aws import client, make_session
from chalicelib.config import Settings


@dataclass
class Target:
    settings: Settings
    profile: str | None = None
    localstack: bool = False
    store_encryption: Encryption = BUCKET_DEFAULT  # of every object written to an s3:// run store
    _session: Any = field(default=None, repr=False)

    @cached_property
    def session(self) -> Any:
        return self._session or make_session(
            profile=self.profile, region=self.settings.region, localstack=self.localstack
        )

    @cached_property
    def dynamodb(self) -> Any:
        return client(self.session, "dynamodb", self.settings)

    @cached_property
    def streams(self) -> Any:
        return client(self.session, "dynamodbstreams", self.settings)

    def run_store(self, location: str | Path | RunStore) -> RunStore:
        """The run store at ``location``; an s3:// store uses this target's credentials, endpoint
        and encryption choice."""
        return open_store(location, session=self.session, endpoint_url=self.settings.endpoint_url,
                          encryption=self.store_encryption)

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
                    hint="check the table name options (--events-table, ...) and --region: tables are per region",
                ) from error

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
        summary: dict[str, Any] = {
            "endpoint": self.endpoint,
            "region": self.settings.region,
            "events_table": self.settings.events_table,
            "participants_table": self.settings.participants_table,
        }
        if counts:
            summary["events"] = self.count_items(self.settings.events_table)
            summary["participants"] = self.count_items(self.settings.participants_table)
        return summary
