"""Stream record handling for the Chalice app (and the local stream runner).

``stream_handler(table)`` is what app.py registers for each table the declaration names, called
with the raw Lambda event and context (powertools adds the Lambda context to every log line and
flushes the metrics, with a cold-start metric, once per invocation): the migrated table's stream
upgrades items (``process_target_batch``), an aggregate source's stream recounts
(``process_source_batch``). Both are the same work with explicit dependencies and a
``BatchResult`` (used by tests and ``backfill streams``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from chalicelib.schema import active_schema
from chalicelib.streams import dependencies
from chalicelib.streams.batch import BatchResult, BatchRetry, lambda_response
from chalicelib.streams.observability import logger, metrics
from chalicelib.streams.sources import process_source_batch
from chalicelib.streams.target import process_target_batch

Handler = Callable[[Mapping[str, Any], Any], PartialItemFailureResponse]


def process_batch(table: str, event: Mapping[str, Any], deps: dependencies.Dependencies,
                  context: Any = None) -> BatchResult:
    """One batch of the stream of the declared ``table``."""
    if table == active_schema().table:
        return process_target_batch(event, deps, context)
    return process_source_batch(event, deps, context, table=table)


def stream_handler(table: str) -> Handler:
    """The Lambda handler of the stream of the declared ``table``."""

    @metrics.log_metrics(capture_cold_start_metric=True)
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: Mapping[str, Any], context: Any) -> PartialItemFailureResponse:
        return lambda_response(process_batch(table, event, dependencies.current(), context))

    return handler


__all__ = [
    "BatchResult",
    "BatchRetry",
    "process_batch",
    "process_target_batch",
    "process_source_batch",
    "stream_handler",
]
