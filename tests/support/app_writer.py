"""An application that keeps editing its own attributes of events (name, description, topic and
visibility), as a separate process: ``python -m tests.support.app_writer ENDPOINT REGION TABLE STOP_FILE``.
It edits one event after another, in a loop, until STOP_FILE exists; then it prints how many
edits it made. After each edit it writes the count so far to STOP_FILE.count, so that a test can
wait for a whole round of edits. Its writes are plain UpdateItems, as an application's would be."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import boto3


def main(endpoint: str, region: str, table: str, stop_file: str) -> int:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    ids = [item["eventId"]["S"] for item in dynamodb.scan(TableName=table, ProjectionExpression="eventId")["Items"]]
    edits = 0
    progress = Path(f"{stop_file}.count")
    for n in itertools.count():
        if Path(stop_file).exists():
            break
        event_id = ids[n % len(ids)]
        dynamodb.update_item(
            TableName=table, Key={"eventId": {"S": event_id}},
            UpdateExpression="SET #n = :n, description = :d, topic = :t, visibility = :v",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":n": {"S": f"renamed {n}"}, ":d": {"S": f"edited {n}"},
                                       ":t": {"S": f"topic {n}"}, ":v": {"S": ("public", "private")[n % 2]}})
        edits += 1
        progress.write_text(str(edits))
    print(edits)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
