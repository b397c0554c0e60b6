"""Point-in-time recovery: AWS's own backup, the second net behind the run's backup.

``pitr_state`` asks DescribeContinuousBackups and never fails: a table without PITR, an endpoint
that does not know the operation (DynamoDB Local answers UnknownOperationException) and a role
that may not call it all give a state that says so, for the command to warn or refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

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


def pitr_state(dynamodb: Any, table: str) -> PitrState:
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
