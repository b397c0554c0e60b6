"""Stream record handling for the Chalice app (and the local stream runner).

``events_stream_handler`` / ``participants_stream_handler`` are what app.py calls with the raw
Lambda event and context (powertools adds the Lambda context to every log line and flushes the
metrics, with a cold-start metric, once per invocation); ``process_events_batch`` /
``process_participants_batch`` are the same work with explicit dependencies and a
``BatchResult`` (used by tests and ``backfill streams``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from chalicelib.streams import dependencies
from chalicelib.streams.batch import BatchResult, BatchRetry, lambda_response
from chalicelib.streams.events import process_events_batch
from chalicelib.streams.observability import logger, metrics
from chalicelib.streams.participants import process_participants_batch


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def events_stream_handler(event: Mapping[str, Any], context: Any) -> PartialItemFailureResponse:
    return lambda_response(process_events_batch(event, dependencies.current(), context))


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def participants_stream_handler(event: Mapping[str, Any], context: Any) -> PartialItemFailureResponse:
    return lambda_response(process_participants_batch(event, dependencies.current(), context))


__all__ = [
    "BatchResult",
    "BatchRetry",
    "events_stream_handler",
    "participants_stream_handler",
    "process_events_batch",
    "process_participants_batch",
]
