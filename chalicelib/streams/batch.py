"""Running one Lambda batch through powertools' BatchProcessor, and what a batch reports."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.streams import observability
from chalicelib.streams.observability import FAILED, logger
from chalicelib.streams.records import StreamChange, parse_record

# Set to "true" only where the event source mapping has FunctionResponseTypes
# ReportBatchItemFailures (chalice package + merge template, or `backfill apply-mapping-settings`).
# Without it Lambda ignores the returned failures, so a failed record must fail the whole batch.
PARTIAL_RESPONSE_ENV = "PARTIAL_BATCH_RESPONSE"


class BatchRetry(Exception):
    """Raised to make Lambda retry the whole batch (reprocessing is idempotent)."""


@dataclass
class BatchResult:
    response: dict[str, Any]
    stats: Counter[str] = field(default_factory=Counter)

    @property
    def failed_sequence_numbers(self) -> list[str]:
        return [failure["itemIdentifier"] for failure in self.response["batchItemFailures"]]


def run_batch(
    event: Mapping[str, Any],
    handle: Callable[[StreamChange], str],
    context: Any = None,
) -> BatchResult:
    """Call ``handle`` for each record; a record whose handling raises is a batch item failure.

    ``handle`` returns the outcome name counted in the stats (see ``observability``).
    """
    stats: Counter[str] = Counter()

    def record_handler(record: DynamoDBRecord) -> str:  # powertools requires the name `record`
        outcome = handle(parse_record(record.raw_event))
        stats[outcome] += 1
        return outcome

    processor = BatchProcessor(
        EventType.DynamoDBStreams,
        raise_on_entire_batch_failure=False,
        logger=logger,  # type: ignore[arg-type]  # powertools' Logger; annotated as logging.Logger
    )
    response = process_partial_response(
        event=dict(event), record_handler=record_handler, processor=processor, context=context
    )
    stats[FAILED] += len(response["batchItemFailures"])
    return BatchResult(dict(response), stats)


def partial_responses_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(PARTIAL_RESPONSE_ENV, "false").strip().lower() in {"1", "true", "yes"}


def lambda_response(result: BatchResult) -> dict[str, Any]:
    """Publish the batch's metrics and turn the result into what the Lambda returns."""
    observability.publish(result.stats)
    observability.flush()
    if result.response["batchItemFailures"] and not partial_responses_enabled():
        raise BatchRetry(
            f"{len(result.response['batchItemFailures'])} record(s) failed and the event source "
            f"mapping is not set to report batch item failures ({PARTIAL_RESPONSE_ENV} is off): "
            "retrying the whole batch"
        )
    return result.response
