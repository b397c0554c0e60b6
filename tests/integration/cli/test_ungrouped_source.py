"""Data that contradicts the declaration is caught before anything is written (issue 31): a
``group_by`` attribute that no row of the aggregate's source carries would zero every count. The
dry run and migrate refuse (exit 3, one line naming the attribute and the table) unless
``--accept-zero-counts``; verify reports the source rows that belong to no item. Every command runs
in its own process; every verdict is a raw scan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.aws import RETRY_CONFIG
from chalicelib.config import Settings
from tests.support.cli import CliRun, cli_env, run_backfill

MISTYPED = "--schema=tests.support.library_declaration:MISTYPED"
MEANT = "--schema=tests.support.library_declaration:BOOKS"
BOOKS = [("lib-1", "978-1"), ("lib-1", "978-2"), ("lib-2", "978-1")]
LOANS = [("978-1", "l-1", "lib-1"), ("978-1", "l-2", "lib-2"), ("978-1", "l-3", "lib-1"), ("978-2", "l-4", "lib-1")]
REFUSAL = ("Error: refusing to migrate, nothing was written: group_by attribute libraryId of aggregate activeLoans "
           "is on none of the 4 loans rows read: every activeLoans would be 0")


def backfill(live_settings: Settings, tmp_path: Path, *args: str) -> CliRun:
    env = {"AWS_REGION": live_settings.region, "AWS_ENDPOINT_URL": str(live_settings.endpoint_url)}
    return run_backfill(*args, cwd=tmp_path, env=cli_env(env))


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table, ConsistentRead=True)["Items"], key=repr)


@pytest.fixture
def library(live_settings: Settings, tmp_path: Path) -> Any:
    created = backfill(live_settings, tmp_path, MEANT, "init-tables")
    assert created.exit_code == 0, created.output
    client = boto3.client("dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url,
                          config=RETRY_CONFIG)
    for library_id, isbn in BOOKS:
        client.put_item(TableName="books", Item={"libraryId": {"S": library_id}, "isbn": {"S": isbn},
                                                 "title": {"S": "A book"}})
    for isbn, loan_id, branch_id in LOANS:
        client.put_item(TableName="loans", Item={"isbn": {"S": isbn}, "loanId": {"S": loan_id},
                                                 "branchId": {"S": branch_id}})
    return client


@pytest.mark.parametrize("count_with", ["scan", "query"])
def test_a_mistyped_group_by_refuses_the_dry_run_and_the_run_before_any_write(library, live_settings, tmp_path,
                                                                               count_with):
    before = scan(library, "books")
    # when the dry run, then migrate, run with the mistyped declaration
    dry = backfill(live_settings, tmp_path, MISTYPED, "migrate", "--dry-run", "--count-with", count_with)
    run = backfill(live_settings, tmp_path, MISTYPED, "migrate", "--yes", "--count-with", count_with)
    # then both are refused in one line naming the attribute and the table, and nothing was written
    for refused in (dry, run):
        assert refused.exit_code == 3, refused.output
        assert refused.errors() == [REFUSAL]
    assert scan(library, "books") == before
    assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").glob("*.jsonl.gz"))


def test_a_run_split_over_processes_is_refused_before_its_children_start(library, live_settings, tmp_path):
    before = scan(library, "books")
    run = backfill(live_settings, tmp_path, MISTYPED, "migrate", "--yes", "--processes", "2")
    assert run.exit_code == 3, run.output
    assert run.errors() == [REFUSAL]
    assert scan(library, "books") == before


def test_accepted_zeros_are_written_and_verify_names_the_rows_that_belong_to_no_item(library, live_settings,
                                                                                     tmp_path):
    # when the operator accepts the zeros explicitly
    run = backfill(live_settings, tmp_path, MISTYPED, "migrate", "--yes", "--accept-zero-counts")
    assert run.exit_code == 0, run.output
    assert {item["activeLoans"]["N"] for item in scan(library, "books")} == {"0"}
    # then verify with the same declaration does not agree blindly: the loans rows belong to no book
    verified = backfill(live_settings, tmp_path, MISTYPED, "verify", "--json")
    assert verified.exit_code == 1, verified.output
    [finding] = verified.json()["failures"]
    assert finding["kind"] == "ungrouped_source_rows"
    assert finding["reason"] == ("4 of the 4 loans rows carry no libraryId, so they count for no books item: "
                                 "check the aggregate's group_by")
    # and counting by query (the rows seen from one page of loans) says the same
    by_query = backfill(live_settings, tmp_path, MISTYPED, "verify", "--count-with", "query", "--json")
    assert by_query.exit_code == 1 and [f["kind"] for f in by_query.json()["failures"]] == ["ungrouped_source_rows"]
    # and with the zeros accepted there too, the same rows are a note
    accepted = backfill(live_settings, tmp_path, MISTYPED, "verify", "--accept-zero-counts", "--json")
    assert accepted.exit_code == 0, accepted.output
    assert [n["kind"] for n in accepted.json()["notes"]] == ["source_rows_in_no_group"]


def test_a_group_by_in_the_wrong_order_refuses_a_whole_table_run_and_fails_verify(library, live_settings, tmp_path):
    swapped = "--schema=tests.support.library_declaration:SWAPPED"
    before = scan(library, "books")
    # when every loan is grouped, but by (isbn, branchId): no such book exists
    dry = backfill(live_settings, tmp_path, swapped, "migrate", "--dry-run")
    run = backfill(live_settings, tmp_path, swapped, "migrate", "--yes")
    # then both are refused before any write to the table, naming the table, the order and the key
    for refused in (dry, run):
        assert refused.exit_code == 3, refused.output
        assert refused.errors() == [
            "Error: refusing to migrate, nothing was written to table books: none of the 4 loans rows grouped by "
            "isbn, branchId "
            "names a books item that exists (group_by holds the item's key in the order of books's key: "
            "libraryId, isbn): every activeLoans would be 0"]
    assert scan(library, "books") == before
    # and verify with that declaration fails on the same rows
    verified = backfill(live_settings, tmp_path, swapped, "verify", "--no-snapshot", "--json")
    assert verified.exit_code == 1, verified.output
    assert [f["kind"] for f in verified.json()["failures"]][-1:] == ["ungrouped_source_rows"]


def test_the_declaration_the_team_meant_counts_every_loan(library, live_settings, tmp_path):
    run = backfill(live_settings, tmp_path, MEANT, "migrate", "--yes")
    assert run.exit_code == 0, run.output
    counts = {(i["libraryId"]["S"], i["isbn"]["S"]): i["activeLoans"]["N"] for i in scan(library, "books")}
    assert counts == {("lib-1", "978-1"): "2", ("lib-1", "978-2"): "1", ("lib-2", "978-1"): "1"}
    assert backfill(live_settings, tmp_path, MEANT, "verify").exit_code == 0
