"""Point-in-time recovery: AWS's own backup, the second net behind the run's backup.

``pitr_state`` asks DescribeContinuousBackups and never fails: a table without PITR, an endpoint
that does not know the operation (DynamoDB Local answers UnknownOperationException) and a role
that may not call it all give a state that says so, for the command to warn or refuse.
``enable_pitr`` turns it on for a table the tool itself created (``restore --to-table
--create-table`` where PITR is required).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

ENABLED = "ENABLED"
DISABLED = "DISABLED"
UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class PitrState:
    table: str
    status: str  # ENABLED, DISABLED or UNKNOWN
    detail: str = ""  # the earliest restorable time, or why the state is unknown

    @property
    def enabled(self) -> bool:
        return self.status == ENABLED

    def describe(self) -> str:
        words = {ENABLED: "on", DISABLED: "off", UNKNOWN: "unknown"}[self.status]
        return f"{words} ({self.detail})" if self.detail else words

    def enable_command(self) -> str:
        return (f"aws dynamodb update-continuous-backups --table-name {self.table} "
                "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true")

    def to_dict(self) -> dict[str, str]:
        return {"table": self.table, "status": self.status, "detail": self.detail}


def pitr_state(dynamodb: DynamoDBClient, table: str) -> PitrState:
    try:
        description = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        if code == "UnknownOperationException":
            return PitrState(table, UNKNOWN, "this endpoint does not support DescribeContinuousBackups")
        return PitrState(table, UNKNOWN, f"DescribeContinuousBackups failed: {code}: {details.get('Message', '')}")
    except BotoCoreError as error:
        return PitrState(table, UNKNOWN, f"DescribeContinuousBackups failed: {error}")
    recovery = description.get("PointInTimeRecoveryDescription", {})
    if recovery.get("PointInTimeRecoveryStatus") != ENABLED:
        return PitrState(table, DISABLED)
    earliest = recovery.get("EarliestRestorableDateTime")
    return PitrState(table, ENABLED, f"restorable from {earliest:%Y-%m-%d %H:%M:%S %Z}".strip() if earliest else "")


ENABLE_TIMEOUT_S = 120.0  # AWS refuses UpdateContinuousBackups for a while after CreateTable


def enable_pitr(dynamodb: DynamoDBClient, table: str, *, timeout_s: float = ENABLE_TIMEOUT_S,
                sleep: Callable[[float], None] = time.sleep) -> PitrState:
    """Turn PITR on for ``table`` (one the command just created) and return its state then. AWS
    answers ContinuousBackupsUnavailableException until a new table's backups are ready: retried
    until ``timeout_s``. Never fails: an endpoint that cannot do it gives a state that says why."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ContinuousBackupsUnavailableException" and time.monotonic() < deadline:
                sleep(5)
                continue
            if code != "UnknownOperationException":  # (pitr_state says that one in its own words)
                return PitrState(table, UNKNOWN, f"UpdateContinuousBackups failed: {code}: "
                                 f"{error.response.get('Error', {}).get('Message', '')}")
        except BotoCoreError as error:
            return PitrState(table, UNKNOWN, f"UpdateContinuousBackups failed: {error}")
        return pitr_state(dynamodb, table)
