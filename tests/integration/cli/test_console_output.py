"""What an operator reads: by default a plan and a report that fit one screen of an 80-column
terminal, with rate and ETA on the bars; every figure with -v (and --json)."""

from __future__ import annotations

from tests.integration.migrate_helpers import seed

SCREEN_LINES = 50


def test_the_default_dry_run_fits_one_screen_and_v_shows_the_rest(dynamodb, live_settings, backfill):
    # given legacy rows
    seed(dynamodb, live_settings, events=40, participants=80, malformed=0)
    # when the dry run runs at 80 columns, by default and with -v
    plain = backfill("migrate", "--dry-run", env={"COLUMNS": "80"})
    detailed = backfill("-v", "migrate", "--dry-run", env={"COLUMNS": "80"})
    # then the default fits one screen, says how to see more, and shows no sample of bare types
    assert plain.exit_code == 0 and detailed.exit_code == 0, plain.output + detailed.output
    lines = plain.stderr.splitlines()
    assert len(lines) <= SCREEN_LINES and max(map(len, lines)) <= 80, plain.stderr
    assert "More: -v" in plain.stderr and "Sample:" not in plain.stderr
    assert "would upgrade" in plain.stderr and "write units" in plain.stderr
    # and -v adds the target table, the sample items and every row of the estimate
    assert "Sample:" in detailed.stderr and "prices (USD per million)" in detailed.stderr
    assert "prices (USD per million)" not in plain.stderr
    # and the bars say how fast (items per second) and how long is left
    bars = [line for line in lines if line.startswith("  ") and "━" in line]  # the spinner column indents
    assert bars and all("/s" in line and "ETA" in line for line in bars), plain.stderr


def test_the_report_shows_anomalies_only_when_there_are_some(dynamodb, live_settings, backfill):
    # given legacy rows, one of which the rule refuses
    seed(dynamodb, live_settings, events=20, participants=20, malformed=1)
    # when migrate runs with the defaults
    ran = backfill("migrate", "--yes", env={"COLUMNS": "80"})
    # then the report names the refusal, says once how to see the hidden values, and omits zero rows
    assert ran.exit_code == 1, ran.output
    said = " ".join(ran.stderr.split())
    assert "Refused (1)" in said and said.count("--show-values shows them") == 1, ran.stderr
    assert "contended" not in said and "gone (deleted meanwhile)" not in said
    # and the last thing said is what to do about the refused item
    assert said.rsplit("Next: ", 1)[-1].startswith("1 refused item(s) were left as they are"), ran.stderr
    assert said.endswith("verify will list them as refused until they change."), ran.stderr
