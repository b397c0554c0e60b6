"""Running one Lambda batch through powertools' BatchProcessor, and what a batch reports.

Every record ends as exactly one outcome (see ``observability``): applied in some way, recorded
in the failures table when it can never be applied (a permanent failure: never retried), or a
batch item failure when a retry can cure it (see ``errors``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.streams import observability
from chalicelib.streams.errors import PermanentFailure, is_retryable, reasons_of
from chalicelib.streams.failures import Failure, FailureStore, item_key_from_wire
from chalicelib.streams.observability import (
    FAILED,
    REJECTED,
    loggable_error,
    loggable_reasons,
    logger,
)
from chalicelib.streams.records import StreamChange, epoch_ms, parse_record, record_id

# Set to "true" only where the event source mapping has FunctionResponseTypes
# ReportBatchItemFailures (chalice package + merge template, or `backfill apply-mapping-settings`).
# Without it Lambda ignores the returned failures, so a failed record must fail the whole batch.
PARTIAL_RESPONSE_ENV = "PARTIAL_BATCH_RESPONSE"


class BatchRetry(Exception):
    """Raised to make Lambda retry the whole batch (reprocessing is idempotent)."""


@dataclass
class BatchResult:
    response: PartialItemFailureResponse
    stats: Counter[str] = field(default_factory=Counter)

    @property
    def failed_sequence_numbers(self) -> list[str]:
        # DynamoDB streams identify a record by its sequence number (a str; Kafka's differ).
        return [str(failure["itemIdentifier"]) for failure in self.response["batchItemFailures"]]


@dataclass(frozen=True)
class Rejections:
    """Where a batch records its permanently failed records: which table, keyed how."""

    store: FailureStore
    table: str  # the table the stream belongs to
    kind: str  # item key prefix: the table's declared name
    key_names: Sequence[str]

    def record(self, raw: Mapping[str, Any], reasons: list[str]) -> None:
        found = raw.get("dynamodb")
        body: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        image = body.get("NewImage")
        try:
            observed = epoch_ms(body.get("ApproximateCreationDateTime"))
        except ArithmeticError:
            observed = None
        item_key = item_key_from_wire(self.kind, self.key_names, body.get("Keys"))
        logger.warning(
            "record rejected: it can never be applied as it is",
            extra={"itemKey": item_key, "sequenceNumber": record_id(raw), "reasons": loggable_reasons(reasons)},
        )
        self.store.record(
            Failure(
                item_key=item_key,
                record_id=record_id(raw),
                reasons=reasons,
                table=self.table,
                event_name=str(raw.get("eventName")),
                observed_at_ms=observed,
                image=dict(image) if isinstance(image, Mapping) else None,
            )
        )


def run_batch(
    event: Mapping[str, Any],
    handle: Callable[[StreamChange], str],
    rejections: Rejections,
    context: Any = None,
) -> BatchResult:
    """Call ``handle`` for each record and settle it as one outcome.

    ``handle`` returns the outcome name counted in the stats. A PermanentFailure, or any error a
    retry cannot cure (a bug met on this record's data), is recorded through ``rejections``; a
    retryable error makes the record a batch item failure.
    """
    stats: Counter[str] = Counter()

    def record_handler(record: DynamoDBRecord) -> str:  # powertools requires the name `record`
        raw = record.raw_event
        try:
            outcome = handle(parse_record(raw))
        except Exception as error:
            if is_retryable(error):
                raise
            if not isinstance(error, PermanentFailure):
                logger.error("unexpected error on a record; recording it, not retrying",
                             extra={"sequenceNumber": record_id(raw), **loggable_error(error)})
            rejections.record(raw, reasons_of(error))
            outcome = REJECTED
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
    return BatchResult(response, stats)


def partial_responses_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(PARTIAL_RESPONSE_ENV, "false").strip().lower() in {"1", "true", "yes"}


def lambda_response(result: BatchResult) -> PartialItemFailureResponse:
    """Add the batch's metrics and turn the result into what the Lambda returns."""
    observability.publish(result.stats)
    if result.response["batchItemFailures"] and not partial_responses_enabled():
        raise BatchRetry(
            f"{len(result.response['batchItemFailures'])} record(s) failed and the event source "
            f"mapping is not set to report batch item failures ({PARTIAL_RESPONSE_ENV} is off): "
            "retrying the whole batch"
        )
    return result.response
