"""powertools Logger and Metrics for the stream handlers, plus per-batch counters.

Metrics are added once per batch (one data point per outcome name), so a batch never hits the
EMF per-flush limits; the Lambda entry flushes them per invocation (``@metrics.log_metrics``), the
local runner never adds them (it reports its own totals). The powertools logger is named after the
service; app.py must not let Chalice configure a logger of the same name (``configure_logs=False``):
Chalice would set it to ERROR and add a second handler. Logs go to stderr so a CLI's ``--json`` stdout stays clean;
in Lambda both streams end up in CloudWatch Logs.

No user data in the logs: a log line names the item by its key and says why, never the item's
values. Reasons are written for the failures table (protected, expiring) and quote the offending
value (``status 'X' is not one of ...``); ``without_values`` replaces every quoted literal before
a reason or an error message is logged.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections import Counter
from collections.abc import Sequence

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.redaction import without_values

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "dynamo-evolve")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "DynamoEvolve")

logger = Logger(service=SERVICE, stream=sys.stderr)
# One line per log record: not again through the root logger (the Lambda runtime's, or the CLI's).
logging.getLogger(SERVICE).propagate = False
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

def loggable_reasons(reasons: Sequence[str]) -> list[str]:
    return [without_values(reason) for reason in reasons]


def loggable_error(error: BaseException) -> dict[str, object]:
    """An unexpected error for the log: its type, its message without values, and where it was
    raised (the traceback's frames; a frame's source line is code, not data)."""
    return {"error": type(error).__name__, "detail": without_values(str(error)),
            "traceback": "".join(traceback.format_tb(error.__traceback__))}


# Outcome names, shared by metrics, logs and the runner's totals.
UPGRADED = "upgraded"  # an old-shape item written in the new shape
CURRENT = "current"  # already in the new shape (includes our own writes coming back): no write
SKIPPED = "skipped"  # nothing to do (REMOVE on the table, deleted before we got to it)
SUPERSEDED = "superseded"  # a later record of the same item covers it (in this batch, or a later one
#                            when a renamed attribute changed again since)
NEWER = "newer_version"  # written by a newer schema version than this code knows: left untouched
COUNTED = "counted"  # items whose aggregate was recounted (changed or confirmed)
APPLIED = "applied"  # source records whose items were recounted
REFUSED = "refused"  # the upgrade rule refused the item: recorded in the failures table
REPORTED = "reported"  # source records whose item does not exist: recorded
REJECTED = "rejected"  # can never be applied (foreign keys, undecodable, a bug on its data): recorded
FAILED = "failed"  # transient failure: the record is reported as a batch item failure


def publish(stats: Counter[str]) -> None:
    """Add this batch's outcome counts to the pending metrics."""
    for name, value in sorted(stats.items()):
        if value:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def discard() -> None:
    metrics.clear_metrics()
