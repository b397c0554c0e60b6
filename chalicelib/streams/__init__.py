"""Stream record handling for the Chalice app (and the local stream runner).

``events_stream_handler`` / ``participants_stream_handler`` are what app.py calls with the raw
Lambda event; ``process_events_batch`` / ``process_participants_batch`` are the same work with
explicit dependencies and a ``BatchResult`` (used by tests and ``backfill streams``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.streams import dependencies
from chalicelib.streams.batch import BatchResult, BatchRetry, lambda_response
from chalicelib.streams.events import process_events_batch
from chalicelib.streams.participants import process_participants_batch


def events_stream_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return lambda_response(process_events_batch(event, dependencies.current(), context))


def participants_stream_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return lambda_response(process_participants_batch(event, dependencies.current(), context))


__all__ = [
    "BatchResult",
    "BatchRetry",
    "events_stream_handler",
    "participants_stream_handler",
    "process_events_batch",
    "process_participants_batch",
]
