"""A child process for tests/integration/test_restore_memory.py: restore one backup in place and
print, as JSON, the peak of memory allocated while doing it (tracemalloc). Run in its own process
so that the endpoint's memory (moto's server runs in the test's process) is not counted.

    python -m tests.support.restore_peak ENDPOINT_URL EVENTS_TABLE BACKUP_FILE PAGE_SIZE
"""

from __future__ import annotations

import json
import sys
import tracemalloc

import boto3

from backfill.restore import RestoreOptions, run_restore, runner
from backfill.table.target import Target
from chalicelib.aws import RETRY_CONFIG
from chalicelib.config import Settings


def main(endpoint_url: str, events_table: str, backup_file: str, page_size: int) -> None:
    settings = Settings(tables={"events": events_table, "participants": "unused"}, failures_table="unused",
                        region="us-east-1").with_overrides(endpoint_url=endpoint_url)
    target = Target(settings=settings)
    target.dynamodb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=endpoint_url,
                                   config=RETRY_CONFIG)
    # Scan pages of page_size items, so a small test table is many pages long, as a big table is
    # (a version of restore without the setting scans 1 MB pages).
    runner.SCAN_PAGE = page_size
    target.dynamodb.describe_table(TableName=events_table)  # the client's first-use allocations, not counted
    tracemalloc.start()
    result = run_restore(target, RestoreOptions(backup_file=backup_file, workers=2))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"peak": peak, "ok": result.ok, "counts": result.counts()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
