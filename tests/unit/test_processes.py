"""The pure parts of `--processes N`: the children's command lines, one plan from the segments'
plans, and one exit code from the children's."""

from __future__ import annotations

import signal
import sys

from backfill.cli.commands.migrate import command as migrate_command
from backfill.cli.processes import (
    GO,
    Child,
    child_argv,
    describe_returncode,
    given_options,
    merge_summaries,
    run_children,
    watch,
    worst_exit_code,
)
from backfill.migrate.plan import Plan, combine_plans, plan_state
from chalicelib.upgrader import UpgradeOutcome, UpgradeResult


def outcome(event_id: str, result: UpgradeResult, status: str = "live") -> UpgradeOutcome:
    before = {"eventId": event_id, "status": "active"}
    after = {"eventId": event_id, "status": status, "participantCount": 2}
    changes = {"status": status} if result is UpgradeResult.UPGRADED else {}
    return UpgradeOutcome(item_name=event_id, result=result, before=before, after=after, changes=changes,
                          reasons=["bad"] if result is UpgradeResult.REFUSED else [])


def test_given_options_are_the_typed_ones_only():
    # given a migrate command line with typed options and others left at their defaults
    ctx = migrate_command.make_context("migrate", ["--writers", "3", "--yes", "--backup-dir", "runs",
                                                   "--processes", "2"])
    # then only the typed ones come back, in the command's order, skipped ones left out
    assert given_options(ctx, skip=("processes", "yes")) == ["--writers", "3", "--backup-dir", "runs"]


def test_a_renamed_table_reaches_a_child_as_typed():
    # given a migrate command line that renames the events table
    ctx = migrate_command.make_context("migrate", ["--table", "events=prod-events", "--processes", "2"])
    # then a child gets the same words back: the declared name and the actual one
    assert given_options(ctx, skip=("processes",)) == ["--table", "events=prod-events"]


def test_a_child_does_one_segment_of_the_named_run_with_its_share_of_the_rate():
    argv = child_argv("migrate", ["--writers", "3"], run_id="r", segment=1, total=4, rate_limit=100.0,
                      extra=["--yes"])
    assert argv[:4] == [sys.executable, "-m", "backfill", "migrate"]
    assert argv[4:] == ["--writers", "3", "--run-id", "r", "--segment", "1", "--total-segments", "4",
                        "--rate-limit", "25.0", "--yes"]


def test_no_rate_limit_is_passed_when_unlimited():
    assert "--rate-limit" not in child_argv("migrate", [], run_id="r", segment=0, total=2)


def test_the_combined_plan_sums_every_segment():
    # given two segments' plans: one with two upgrades and a refusal, one with an item already current
    first, second = Plan(sample_limit=2), Plan(sample_limit=2)
    for item in (outcome("a", UpgradeResult.UPGRADED), outcome("b", UpgradeResult.UPGRADED),
                 outcome("c", UpgradeResult.REFUSED)):
        first.add(item)
    second.add(outcome("d", UpgradeResult.CURRENT))
    second.add(outcome("e", UpgradeResult.UPGRADED, status="setup"))
    # when they are combined from what the children saved
    plan = combine_plans([plan_state(first), plan_state(second)])
    # then counts add up, the lists are joined, and the sample diffs stop at the limit
    assert (plan.total, plan.would_upgrade, plan.current, plan.refused) == (5, 3, 1, 1)
    assert plan.tally.transitions == {"active->live": 2, "active->setup": 1}
    assert [item["eventId"] for item in plan.tally.refused] == ["c"]
    assert [sample["eventId"] for sample in plan.samples] == ["a", "b"]
    assert plan.tally.aggregate.items == 4 and plan.tally.aggregate.total == 8


def test_no_segment_plan_is_an_empty_plan():
    assert combine_plans([]).total == 0


def test_the_worst_exit_code_wins():
    assert worst_exit_code([]) == 0
    assert worst_exit_code([0, 0]) == 0
    assert worst_exit_code([0, 1]) == 1
    assert worst_exit_code([1, 130]) == 130
    assert worst_exit_code([130, 3]) == 3
    assert worst_exit_code([3, 2]) == 2
    assert worst_exit_code([2, 4]) == 4
    assert worst_exit_code([4, 5]) == 5
    # a child killed by a signal was interrupted (its checkpoint resumes); an unknown code is unexpected
    assert worst_exit_code([1, -signal.SIGKILL]) == 130
    assert worst_exit_code([0, 9]) == 5


def test_a_signal_is_named():
    assert describe_returncode(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_returncode(2) == "exit code 2"


def test_children_run_to_the_end_with_their_output_in_their_log(tmp_path):
    # given two children, one failing
    children = [Child(k, [sys.executable, "-c", f"print('segment {k}'); raise SystemExit({k * 4})"],
                      tmp_path / f"seg{k}.log") for k in range(2)]
    # when they run
    interrupted = run_children(children)
    # then both finished, each exit code is kept, and each log holds the command and the output
    assert not interrupted
    assert [c.returncode for c in children] == [0, 4]
    assert [c.exit_code for c in children] == [0, 4]
    assert "segment 1" in children[1].tail() and children[1].tail().startswith("$ ")


def test_restore_summaries_of_the_segments_add_up():
    # given two segments' restore results as their children printed them
    first = {"ok": True, "backup": "r-seg0of2", "table": "events", "counts": {"restored": 3},
             "items": [{"eventId": "a", "outcome": "conflict_skipped"}], "report": "r0.json"}
    second = {"ok": False, "backup": "r-seg1of2", "table": "events", "counts": {"restored": 2, "failed": 1},
              "items": [{"eventId": "b", "outcome": "failed"}], "report": "r1.json"}
    # when they are merged
    merged = merge_summaries([first, second])
    # then numbers add up, lists join, a flag holds only if it holds for both, shared values stay single
    assert merged["counts"] == {"restored": 5, "failed": 1}
    assert [i["eventId"] for i in merged["items"]] == ["a", "b"]
    assert merged["ok"] is False and merged["table"] == "events"
    assert merged["backup"] == ["r-seg0of2", "r-seg1of2"] and merged["report"] == ["r0.json", "r1.json"]


def test_a_waiting_child_hears_the_parent_word(tmp_path):
    # given two children that wait for one line on stdin and exit 0 on "write", 3 otherwise
    script = "import sys; raise SystemExit(0 if sys.stdin.readline().strip() == 'write' else 3)"
    children = [Child(k, [sys.executable, "-c", script], tmp_path / f"seg{k}.log") for k in range(2)]
    for child in children:
        child.start(None, stdin_pipe=True)
    # when the parent tells one to write and the other to stop, and waits
    children[0].tell(GO)
    children[1].tell("stop")
    interrupted = watch(children)
    # then each did what it was told
    assert not interrupted and [c.returncode for c in children] == [0, 3]
