"""Participants stream: keep each touched event's participantCount equal to a fresh count.

Per batch, the records are grouped by the events they touch and each event is recounted once
(``refresh_participant_count``: consistent COUNT query, write conditioned on countVersion).
Recounting is idempotent, so a duplicated or retried batch leaves the same counts. A record is
a batch item failure when the recount of one of its events failed; records whose event does not
exist are recorded in the failures table instead (a count is never written to a missing event,
so no phantom event appears).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.counts import CountOutcome, CountResult, refresh_participant_count
from chalicelib.streams.batch import BatchResult, Rejections, run_batch
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.errors import PermanentFailure, RetryableFailure, is_retryable
from chalicelib.streams.failures import Failure, participants_item_key
from chalicelib.streams.observability import APPLIED, COUNTED, REPORTED, SKIPPED, logger
from chalicelib.streams.records import StreamChange, parse_record, require_keys

KEY_NAMES = ("eventId", "participantId")


class CountFailed(RetryableFailure):
    """The recount of an event this record touches failed transiently; retried with the batch."""


def touched_event_ids(change: StreamChange) -> list[str]:
    """Events whose count this record can change: INSERT/REMOVE always, MODIFY only if it
    moves the participant from one event to another."""
    ids: list[str] = []
    for source in (change.keys, change.old_image or {}, change.new_image or {}):
        event_id = source.get("eventId")
        if isinstance(event_id, str) and event_id and event_id not in ids:
            ids.append(event_id)
    if change.event_name == "MODIFY" and len(ids) < 2:
        return []
    return ids


def _refresh_all(event_ids: list[str], deps: Dependencies) -> dict[str, CountOutcome | Exception]:
    results: dict[str, CountOutcome | Exception] = {}
    for event_id in event_ids:
        try:
            results[event_id] = refresh_participant_count(deps.events, deps.counter, event_id)
        except Exception as error:  # fails only this event's records (retried or recorded)
            logger.warning("participant recount failed", extra={"eventId": event_id, "error": repr(error)})
            results[event_id] = error
    return results


def _settle(change: StreamChange, results: Mapping[str, CountOutcome | Exception], deps: Dependencies) -> str:
    require_keys(change, KEY_NAMES, deps.settings.participants_table)
    event_ids = touched_event_ids(change)
    if not event_ids:
        return SKIPPED
    missing: list[str] = []
    for event_id in event_ids:
        result = results[event_id]
        if isinstance(result, Exception):
            if is_retryable(result):
                raise CountFailed(f"recount of event {event_id!r} failed: {result!r}") from result
            raise PermanentFailure([f"recount of event {event_id!r} failed: {type(result).__name__}: {result}"])
        if result.result is CountResult.CONTENDED:
            raise CountFailed(f"recount of event {event_id!r} kept racing ({result.attempts} attempts)")
        if result.result is CountResult.EVENT_MISSING:
            missing.append(event_id)
    # A REMOVE after its event was deleted is ordinary clean-up; a participant added to an event
    # that does not exist is what an operator must hear about.
    reportable = [e for e in missing if change.new_image is not None and change.new_image.get("eventId") == e]
    if not reportable:
        return APPLIED if len(missing) < len(event_ids) else SKIPPED
    participant_id = (change.new_image or change.keys).get("participantId", change.keys.get("participantId"))
    for event_id in reportable:
        reason = f"event {event_id!r} does not exist in {deps.settings.events_table}"
        logger.warning(
            "participant of a missing event",
            extra={"eventId": event_id, "participantId": participant_id, "sequenceNumber": change.sequence_number},
        )
        deps.failures.record(
            Failure(
                item_key=participants_item_key(event_id, participant_id),
                record_id=change.record_id,
                reasons=[reason],
                table=deps.settings.participants_table,
                event_name=change.event_name,
                observed_at_ms=change.observed_at_ms,
                image=change.typed_new_image,
            )
        )
    return REPORTED


def process_participants_batch(
    event: Mapping[str, Any], deps: Dependencies, context: Any = None
) -> BatchResult:
    """Recount every event the batch touches once, then settle each record against the result."""
    touched: list[str] = []
    for raw in event.get("Records", []):
        try:
            change = parse_record(raw)
            require_keys(change, KEY_NAMES, deps.settings.participants_table)
        except PermanentFailure:
            continue  # settled (recorded) by run_batch; must not stop the others being counted
        touched.extend(e for e in touched_event_ids(change) if e not in touched)
    results = _refresh_all(touched, deps)
    rejections = Rejections(deps.failures, deps.settings.participants_table, "participants", KEY_NAMES)
    result = run_batch(event, lambda change: _settle(change, results, deps), rejections, context)
    result.stats[COUNTED] += sum(
        1
        for outcome in results.values()
        if isinstance(outcome, CountOutcome)
        and outcome.result in (CountResult.UPDATED, CountResult.UNCHANGED)
    )
    return result
