"""--count-with: a worker of a split run counts its own events with one COUNT query each, and
writes exactly the counts one scan of the participants table gives; it never scans that table."""

from __future__ import annotations

from typing import Any

from backfill.migrate import plan_migration, run_migration
from backfill.run.backup import iter_backup_items, load_backup
from backfill.table import aggregate_counts
from backfill.table.source_groups import SAMPLE_ROWS
from backfill.verify import VerifyOptions, run_verify
from chalicelib.config import Settings
from tests.integration.migrate_helpers import (
    fresh_count,
    options,
    raw_items,
    second_table_set,
    seed,
    target_for,
)

MAINTAINED = {"participantCount": {"N": "999"}, "countVersion": {"N": "3"}}


def keep_count_of(dynamodb: Any, settings: Settings, event_id: str) -> None:
    """Mark one event's count as one the live path maintains (it must be kept as is)."""
    dynamodb.update_item(TableName=settings.table("events"), Key={"eventId": {"S": event_id}},
                         UpdateExpression="SET participantCount = :n, countVersion = :v",
                         ExpressionAttributeValues={":n": MAINTAINED["participantCount"], ":v": MAINTAINED["countVersion"]})


def counts_of(dynamodb: Any, settings: Settings) -> dict[str, tuple[Any, Any]]:
    return {e: (item.get("participantCount"), item.get("countVersion"))
            for e, item in raw_items(dynamodb, settings.table("events")).items()}


# A run counting by query scans one page of the source, to check its rows belong to groups at all
# (backfill.table.source_groups): one Scan request of at most this many rows, never the whole table.
GROUP_CHECK = SAMPLE_ROWS


class QueriedEvents:
    """The eventId of every Query the client sends, and the table and Limit of every Scan (botocore hook)."""

    def __init__(self, client: Any) -> None:
        self.queried: list[str] = []
        self.scanned_tables: list[str] = []
        self.scan_limits: list[int | None] = []
        client.meta.events.register("provide-client-params.dynamodb.Query", self._query)
        client.meta.events.register("provide-client-params.dynamodb.Scan", self._scan)

    def _query(self, params: dict[str, Any], **_: Any) -> None:
        self.queried.append(params["ExpressionAttributeValues"][":g0"]["S"])

    def _scan(self, params: dict[str, Any], **_: Any) -> None:
        self.scanned_tables.append(params["TableName"])
        self.scan_limits.append(params.get("Limit"))

    def scans_of(self, table: str) -> list[int | None]:
        """The Limit of each Scan of ``table``."""
        return [limit for name, limit in zip(self.scanned_tables, self.scan_limits, strict=True) if name == table]


def test_a_split_run_counting_by_query_writes_the_counts_a_scan_writes(dynamodb, live_settings, tmp_path):
    # given two identical table sets of legacy events with participants, one event's count in each
    # maintained by the live path
    data = seed(dynamodb, live_settings, events=40, participants=150, malformed=0, seed=21)
    other = second_table_set(dynamodb, live_settings, "scan")
    seed(dynamodb, other, events=40, participants=150, malformed=0, seed=21)
    kept = sorted(data.participant_counts())[0]
    for settings in (live_settings, other):
        keep_count_of(dynamodb, settings, kept)
    # when the first is migrated by two workers counting by query, the second by two scanning
    by_query = [run_migration(target_for(live_settings), options(tmp_path / "q", segment=k, total_segments=2,
                                                                 count_with="query")) for k in (0, 1)]
    by_scan = [run_migration(target_for(other), options(tmp_path / "s", segment=k, total_segments=2,
                                                        count_with="scan")) for k in (0, 1)]
    assert all(r.exit_code == 0 for r in by_query + by_scan)
    # then both wrote exactly the same counts, the live path's count kept, the others exact
    written = counts_of(dynamodb, live_settings)
    assert written == counts_of(dynamodb, other)
    assert written[kept] == (MAINTAINED["participantCount"], MAINTAINED["countVersion"])
    for event_id, (count, _) in written.items():
        if event_id != kept:
            assert int(count["N"]) == fresh_count(dynamodb, live_settings, event_id), event_id
    # and each report says how it counted
    assert all(r.target["participants counted by"].startswith("query:") for r in by_query)
    assert all(r.target["participants counted by"].startswith("scan:") for r in by_scan)


def test_a_worker_counting_by_query_reads_only_its_own_events(dynamodb, live_settings, tmp_path):
    # given legacy events with participants, one with a count the live path maintains
    data = seed(dynamodb, live_settings, events=40, participants=150, malformed=0, seed=22)
    kept = sorted(data.participant_counts())[1]
    keep_count_of(dynamodb, live_settings, kept)
    # when worker 1 of 2 runs with --count-with query, its requests watched
    target = target_for(live_settings)
    seen = QueriedEvents(target.dynamodb)
    report = run_migration(target, options(tmp_path, segment=1, total_segments=2, count_with="query"))
    assert report.exit_code == 0
    # and it queried each event of its own backup once (except the one whose count is kept) and
    # never scanned the participants table: one Scan request of a page, the group check
    backup = load_backup(report.run_id, store=target.run_store(tmp_path))
    own = {typed["eventId"]["S"] for _, typed in iter_backup_items(backup)}
    assert 0 < len(own) < 40
    assert sorted(seen.queried) == sorted(own - {kept})
    assert seen.scans_of(live_settings.table("participants")) == [GROUP_CHECK]
    assert report.source_rows == sum(n for e, n in data.participant_counts().items() if e in own - {kept})


def test_a_dry_run_of_a_worker_counts_by_query_and_says_so(dynamodb, live_settings, tmp_path):
    # given legacy events with participants
    seed(dynamodb, live_settings, events=30, participants=90, malformed=0, seed=23)
    # when worker 0 of 2 plans with --count-with query
    target = target_for(live_settings)
    seen = QueriedEvents(target.dynamodb)
    dry = plan_migration(target, options(tmp_path, segment=0, total_segments=2, count_with="query"))
    # then it queried only its own events (those it planned) and never scanned the participants
    # (one Scan request of a page: the group check)
    assert 0 < len(seen.queried) == dry.plan.total < 30
    assert seen.scans_of(live_settings.table("participants")) == [GROUP_CHECK]
    # and the target it prints says which method and why
    assert dry.to_dict()["target"]["participants counted by"].startswith("query:")
    # and its estimate prices those queries (one per event with few participants: no second page)
    # and what a scan of the whole participants table would cost instead
    estimate = dry.to_dict()["estimate"]
    assert estimate["participants counted by"].startswith("query:")
    assert estimate["requests"]["Query participants (COUNT, consistent, one per item to count)"] == len(seen.queried)
    assert estimate["counting with scan instead"]["requests"] >= 1


def test_verify_of_one_segment_counts_its_own_events_by_query_and_finds_what_a_scan_finds(
        dynamodb, live_settings, tmp_path):
    # given a table migrated by the two workers of run "r1", then one event's count made wrong
    seed(dynamodb, live_settings, events=40, participants=150, malformed=0, seed=24)
    reports = [run_migration(target_for(live_settings), options(tmp_path, run_id="r1", segment=k, total_segments=2))
               for k in (0, 1)]
    assert all(r.exit_code == 0 for r in reports)
    own = {typed["eventId"]["S"] for _, typed in iter_backup_items(
        load_backup(reports[0].run_id, store=target_for(live_settings).run_store(tmp_path)))}
    wrong = sorted(own)[0]
    dynamodb.update_item(TableName=live_settings.table("events"), Key={"eventId": {"S": wrong}},
                         UpdateExpression="SET participantCount = :n", ExpressionAttributeValues={":n": {"N": "77"}})
    # when segment 0 is verified with --count-with query, its requests watched
    target = target_for(live_settings)
    seen = QueriedEvents(target.dynamodb)
    by_query = run_verify(target, VerifyOptions(backup_dir=tmp_path, run="r1", segment=0, recheck_counts=False,
                                                count_with="query"))
    # then it counted each of its own events with one query and never scanned the participants
    # (one Scan request of a page: the group check)
    assert by_query.counted_with.startswith("query:")
    assert sorted(seen.queried) == sorted(own)
    assert seen.scans_of(live_settings.table("participants")) == [GROUP_CHECK]
    # and it finds the same problem a scan of the participants table finds: the wrong count
    by_scan = run_verify(target_for(live_settings), VerifyOptions(backup_dir=tmp_path, run="r1", segment=0,
                                                                  recheck_counts=False, count_with="scan"))
    assert by_scan.counted_with.startswith("scan:")
    assert by_query.failing_names() == by_scan.failing_names() == {wrong}
    assert by_query.source_rows == by_scan.source_rows - sum(
        n for e, n in fresh_counts(dynamodb, live_settings).items() if e not in own)


def fresh_counts(dynamodb: Any, settings: Settings) -> dict[str, int]:
    """eventId -> participant rows, counted here from a plain scan (not the code under test)."""
    counts: dict[str, int] = {}
    kwargs: dict[str, Any] = {"TableName": settings.table("participants")}
    while True:
        page = dynamodb.scan(**kwargs)
        for row in page["Items"]:
            counts[row["eventId"]["S"]] = counts.get(row["eventId"]["S"], 0) + 1
        if "LastEvaluatedKey" not in page:
            return counts
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_counts_spilled_to_disk_are_the_counts_written(dynamodb, live_settings, tmp_path, monkeypatch):
    # given legacy events with participants, and a count store that keeps only 5 events in memory
    seed(dynamodb, live_settings, events=40, participants=150, malformed=0, seed=25)
    monkeypatch.setattr(aggregate_counts, "MEMORY_LIMIT_ITEMS", 5)
    on_disk: list[Any] = []
    make_disk = aggregate_counts.DiskCounts.__init__

    def spy(self: Any) -> None:
        on_disk.append(self)
        make_disk(self)

    monkeypatch.setattr(aggregate_counts.DiskCounts, "__init__", spy)
    # when the whole table is migrated by 4 writers looking counts up in the store on disk
    report = run_migration(target_for(live_settings), options(tmp_path, count_with="scan"))
    # then every count written equals a fresh count of the event's participants
    assert report.exit_code == 0 and report.source_rows == 150
    fresh = fresh_counts(dynamodb, live_settings)
    assert {e: int(c["N"]) for e, (c, _) in counts_of(dynamodb, live_settings).items()} == {
        e: fresh.get(e, 0) for e in raw_items(dynamodb, live_settings.table("events"))}
    # and verify, its counts on disk too, agrees
    verified = run_verify(target_for(live_settings), VerifyOptions(backup_dir=tmp_path))
    assert verified.ok and verified.source_rows == 150
    # and both did keep their counts on disk (migrate's store, verify's counts and events seen)
    assert len(on_disk) == 3


def test_auto_weighs_a_workers_queries_against_a_scan_by_the_tables_item_counts(
        dynamodb, live_settings, tmp_path, monkeypatch):
    # given 40 events and 150 participant rows
    seed(dynamodb, live_settings, events=40, participants=150, malformed=0, seed=26)
    # when worker 0 of 2 plans with --count-with auto, a count query costing 300 scanned rows
    scanned = plan_migration(target_for(live_settings), options(tmp_path, segment=0, total_segments=2))
    # then 20 queries (6,000 rows' worth) cost more than scanning 150 rows: it scans, and says why
    said = scanned.to_dict()["target"]["participants counted by"]
    assert said.startswith("scan:") and "20 count queries" in said and "150 source rows" in said
    # when a count query costs only as much as scanning one row
    monkeypatch.setattr(aggregate_counts, "QUERY_CPU_IN_SCANNED_ROWS", 1)
    target = target_for(live_settings)
    seen = QueriedEvents(target.dynamodb)
    queried = plan_migration(target, options(tmp_path, segment=0, total_segments=2))
    # then 20 queries are cheaper than the scan: it queries its own events, and says why
    assert queried.to_dict()["target"]["participants counted by"].startswith("query: ")
    assert len(seen.queried) == queried.plan.total
    assert seen.scans_of(live_settings.table("participants")) == [GROUP_CHECK]
    # and a whole-table run scans whatever the costs
    whole = plan_migration(target_for(live_settings), options(tmp_path))
    assert whole.to_dict()["target"]["participants counted by"].startswith("scan:")
