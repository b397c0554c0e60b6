"""Parallel scan (Segment/TotalSegments) with one thread per segment, pages yielded as they come."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_dynamodb import DynamoDBClient

# Memory of a scan is bounded by its pages, not by the table: each segment's thread holds the
# page it is reading plus at most one waiting in the queue, and a page holds at most
# DEFAULT_PAGE_ITEMS items (a full 1 MB page of small rows is ten thousand or more items, several
# times that as Python objects). A 1,000-item page still costs one request per 1,000 rows, a
# negligible share of the client CPU of reading them.
DEFAULT_PAGE_ITEMS = 1000
WAITING_PAGES_PER_SEGMENT = 1
# Limit of a scan streamed past an on-disk index (verify, restore): a few hundred items per
# segment in memory at once.
STREAMING_PAGE_ITEMS = 100


@dataclass(frozen=True)
class Page:
    segment: int
    items: list[dict[str, Any]]  # typed DynamoDB JSON, as the client returns them


def parallel_scan(
    dynamodb: DynamoDBClient,
    table: str,
    *,
    total_segments: int,
    segments: Sequence[int] | None = None,
    projection: str | None = None,
    expression_names: dict[str, str] | None = None,
    page_size: int | None = None,
    consistent: bool = False,
) -> Iterator[Page]:
    """Scan ``segments`` (default: all) of a ``total_segments``-way split concurrently.

    Pages of one segment arrive in scan order; an error in any segment is raised here after the other threads are told to stop.
    ``consistent`` asks for strongly consistent reads (restore and verify plan from them).
    ``page_size``: items per request (default DEFAULT_PAGE_ITEMS), which bounds memory.
    """
    wanted = list(range(total_segments)) if segments is None else list(segments)
    out: queue.Queue[Page | BaseException | None] = queue.Queue(
        maxsize=WAITING_PAGES_PER_SEGMENT * max(1, len(wanted)))
    stop = threading.Event()

    def worker(segment: int) -> None:
        kwargs: dict[str, Any] = {"TableName": table}
        if total_segments > 1:
            kwargs.update(Segment=segment, TotalSegments=total_segments)
        if projection:
            kwargs["ProjectionExpression"] = projection
        if expression_names:
            kwargs["ExpressionAttributeNames"] = expression_names
        kwargs["Limit"] = page_size or DEFAULT_PAGE_ITEMS
        if consistent:
            kwargs["ConsistentRead"] = True
        try:
            while not stop.is_set():
                response = dynamodb.scan(**kwargs)
                last = response.get("LastEvaluatedKey")
                out.put(Page(segment, response.get("Items", [])))
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
