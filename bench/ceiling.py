"""The endpoint's ceiling: the least work any migration must do, at the best concurrency.

One scan of the participants table (counts), one scan of the events table, and exactly one
conditional UpdateItem per event that needs one, sent from a pool of ``threads`` writers. No
backup, ledger, checkpoint, progress or report: only the requests. The write itself is the
project's shared one (``upgrade_in_place``), so the request is byte-for-byte what the backfill
sends and any gap between the two is orchestration, not request shape.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from backfill.participant_counts import count_participants
from backfill.scan import parallel_scan
from chalicelib.aws import client
from chalicelib.config import Settings
from chalicelib.events_store import EventStore
from chalicelib.items import to_python
from chalicelib.upgrader import UpgradeResult, keep_maintained_count, upgrade_in_place


def run_ceiling(session: Any, settings: Settings, *, threads: int) -> tuple[int, dict[str, Any]]:
    dynamodb = client(session, "dynamodb", settings)
    counts = count_participants(dynamodb, settings.participants_table, total_segments=1)
    store = EventStore(dynamodb, settings.events_table)
    count_source = keep_maintained_count(lambda event_id: counts.get(event_id, 0))

    def upgrade(typed: dict[str, Any]) -> UpgradeResult:
        return upgrade_in_place(store, to_python(typed), count_source=count_source).result

    results: dict[str, int] = {}
    with ThreadPoolExecutor(threads) as pool:
        pending = []
        for page in parallel_scan(dynamodb, settings.events_table, total_segments=1):
            pending.append(pool.map(upgrade, page.items))
        for outcomes in pending:
            for outcome in outcomes:
                results[outcome.value] = results.get(outcome.value, 0) + 1
    return sum(results.values()), {"results": results, "threads": threads}
