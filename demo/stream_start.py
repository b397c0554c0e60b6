"""Start the local stream runner at the streams' current end, like a mapping created with LATEST.

The demo switches the live path on after the backfill: the seed inserts and the migration's own
writes already in the streams are not the story (the fault suite drains from TRIM_HORIZON).
"""

from __future__ import annotations

from typing import Any

from backfill.stream_runner import StreamRunner


def last_sequence_number(streams: Any, arn: str, shard_id: str) -> str | None:
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON").get("ShardIterator")
    last = None
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page.get("Records"):
            return last
        last = page["Records"][-1]["dynamodb"]["SequenceNumber"]
        iterator = page.get("NextShardIterator")
    return last


def start_at_end(runner: StreamRunner, streams: Any) -> int:
    """Move every shard's position to its last record; returns the records skipped over (shards)."""
    moved = 0
    for stream in runner.streams:
        shards = streams.describe_stream(StreamArn=stream.arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            last = last_sequence_number(streams, stream.arn, shard["ShardId"])
            if last is not None:
                runner.positions.set(stream.arn, shard["ShardId"], last)
                moved += 1
    return moved
