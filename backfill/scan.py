"""Parallel scan (Segment/TotalSegments) with one thread per segment, pages yielded as they come."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# Limit of a scan streamed past an on-disk index (verify, restore): the pages waiting in the queue
# (up to 4 per segment, when the scan runs ahead of the consumer) then hold at most a few hundred
# items per segment, not a megabyte each, so memory stays flat whatever the table's size.
STREAMING_PAGE_ITEMS = 100


@dataclass(frozen=True)
class Page:
    segment: int
    items: list[dict[str, Any]]  # typed DynamoDB JSON, as the client returns them
    last_evaluated_key: dict[str, Any] | None


def parallel_scan(
    dynamodb: Any,
    table: str,
    *,
    total_segments: int,
    segments: Sequence[int] | None = None,
    projection: str | None = None,
    expression_names: dict[str, str] | None = None,
    start_keys: dict[int, dict[str, Any]] | None = None,
    page_size: int | None = None,
    consistent: bool = False,
) -> Iterator[Page]:
    """Scan ``segments`` (default: all) of a ``total_segments``-way split concurrently.

    ``start_keys`` resumes a segment after a known key. Pages of one segment arrive in scan
    order; an error in any segment is raised here after the other threads are told to stop.
    ``consistent`` asks for strongly consistent reads (restore and verify plan from them).
    """
    wanted = list(range(total_segments)) if segments is None else list(segments)
    out: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=4 * max(1, len(wanted)))
    stop = threading.Event()

    def worker(segment: int) -> None:
        kwargs: dict[str, Any] = {"TableName": table}
        if total_segments > 1:
            kwargs.update(Segment=segment, TotalSegments=total_segments)
        if projection:
            kwargs["ProjectionExpression"] = projection
        if expression_names:
            kwargs["ExpressionAttributeNames"] = expression_names
        if page_size:
            kwargs["Limit"] = page_size
        if consistent:
            kwargs["ConsistentRead"] = True
        if start_keys and segment in start_keys:
            kwargs["ExclusiveStartKey"] = start_keys[segment]
        try:
            while not stop.is_set():
                response = dynamodb.scan(**kwargs)
                last = response.get("LastEvaluatedKey")
                out.put(Page(segment, response.get("Items", []), last))
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last
        except BaseException as error:  # handed to the consumer, which re-raises it
            out.put(error)
        finally:
            out.put(None)

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in wanted]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        while finished < len(threads):
            entry = out.get()
            if entry is None:
                finished += 1
            elif isinstance(entry, BaseException):
                raise entry
            else:
                yield entry
    finally:
        stop.set()
        while any(t.is_alive() for t in threads):
            with contextlib.suppress(queue.Empty):
                out.get(timeout=0.1)  # unblock workers waiting on a full queue
