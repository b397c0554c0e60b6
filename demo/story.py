"""The demo's story, step by step, with the project's real library entry points.

setup -> dry run -> migrate (backup, progress bar) -> verify -> live writes upgraded by the
stream handlers -> restore from the backup -> round-trip check. Every step checks its claim
against a fresh, independent look at the tables (``demo.checks``), not against what the code
under test says about itself.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backfill.table.target import Target
from chalicelib.items import to_python
from chalicelib.tables import create_tables
from demo.checks import TableCheck, check_tables, snapshot
from demo.old_app import OldApp, OldAppLog
from demo.report import FAIL, NOT_RUN, PASS, NotLanded, StepResult
from localdev.legacy_data import LegacyDataSet, generate, seed_tables


@dataclass(frozen=True)
class DemoOptions:
    events: int = 2000
    participants: int = 6000
    malformed: int = 6
    seed: int = 7
    live_writes: int = 200
    backup_dir: Path = Path("backups/demo")


@dataclass
class StoryState:
    """What the steps hand on to each other."""

    data: LegacyDataSet | None = None
    backup_path: str | None = None
    old_app_log: OldAppLog | None = None
    facts: dict[str, Any] = field(default_factory=dict)


Outcome = tuple[bool, str]  # (passed, one line of what the step showed)


class Story:
    def __init__(self, target: Target, options: DemoOptions, console: Console) -> None:
        self.target = target
        self.options = options
        self.console = console
        self.state = StoryState()
        self.results: list[StepResult] = []

    # --- running the steps ------------------------------------------------------------------
    def steps(self) -> list[tuple[str, Callable[[], Outcome], tuple[str, ...]]]:
        """(name, step, names of the steps it needs to have passed)."""
        return [
            ("setup", self.setup, ()),
            ("dry run", self.dry_run, ("setup",)),
            ("migrate", self.migrate, ("setup",)),
            ("verify", self.verify, ("migrate",)),
            ("live writes", self.live_writes, ("migrate",)),
            ("restore", self.restore, ("migrate",)),
            ("round trip", self.round_trip, ("restore",)),
        ]

    def run(self) -> list[StepResult]:
        passed: set[str] = set()
        for number, (name, step, needs) in enumerate(self.steps(), start=1):
            self.console.rule(f"[bold]{number}. {name}")
            missing = [n for n in needs if n not in passed]
            started = time.monotonic()
            if missing:
                result = StepResult(name, NOT_RUN, f"needs {', '.join(missing)}")
            else:
                result = self._run_step(name, step, started)
            self.console.print(f"-> [bold]{result.status}[/] {result.detail}")
            self.results.append(result)
            if result.status == PASS:
                passed.add(name)
        return self.results

    def _run_step(self, name: str, step: Callable[[], Outcome], started: float) -> StepResult:
        try:
            ok, detail = step()
        except NotLanded as missing:
            return StepResult(name, NOT_RUN, f"not in this checkout: {missing}")
        except Exception as error:  # a demo step that crashes is a failed step, shown, not hidden
            self.console.print_exception(max_frames=5)
            return StepResult(name, FAIL, f"{type(error).__name__}: {error}", time.monotonic() - started)
        return StepResult(name, PASS if ok else FAIL, detail, time.monotonic() - started)

    def say(self, text: str) -> None:
        self.console.print(f"   {text}")

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        """A rich progress bar, in the shape the migration's hooks ask for."""
        columns = [TextColumn("   {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=self.console, transient=False) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)

    # --- the steps ------------------------------------------------------------------------------
    def setup(self) -> Outcome:
        settings = self.target.settings
        self.say(f"endpoint {self.target.endpoint}, region {settings.region}")
        created = create_tables(self.target.dynamodb, settings, self.target.streams)
        self.say(f"tables created: {', '.join(created) or 'none (they existed)'}")
        existing = self.target.count_items(settings.table("events"))
        if existing:
            return False, f"table {settings.table('events')} already holds {existing} items: the demo needs empty tables"
        opts = self.options
        data = generate(events=opts.events, participants=opts.participants, malformed=opts.malformed, seed=opts.seed)
        seed_tables(self.target.dynamodb, settings.table("events"), settings.table("participants"), data)
        self.state.data = data
        malformed = set(data.malformed_ids)
        statuses = Counter(str(e.get("status")) for e in data.events if e["eventId"] not in malformed)
        counts = data.participant_counts()
        self.say(f"seeded {len(data.events)} legacy events: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                 + f", malformed {len(malformed)}")
        self.say(
            f"seeded {len(data.participants)} participants over {len(counts)} events "
            f"(busiest has {max(counts.values(), default=0)}, {len(data.events) - len(counts)} have none)"
        )
        self.say(f"{len(data.malformed_ids)} malformed rows the upgrade rule must refuse: {', '.join(data.malformed_ids)}")
        stored = self.target.describe()
        ok = stored["events"] == len(data.events) and stored["participants"] == len(data.participants)
        return ok, f"{stored['events']} events, {stored['participants']} participants on the endpoint"

    def _migration(self) -> Any:
        try:
            from backfill import migrate
        except ImportError as error:
            raise NotLanded(f"backfill.migrate ({error})") from error
        return migrate

    def _migration_options(self) -> Any:
        return self._migration().MigrationOptions(backup_dir=self.options.backup_dir, segments=4, workers=8)

    def dry_run(self) -> Outcome:
        migrate = self._migration()
        before = snapshot(self.target.dynamodb, self.target.settings.table("events"))
        dry = migrate.plan_migration(self.target, self._migration_options())
        plan = dry.plan
        self.say(f"would upgrade {plan.would_upgrade}, already current {plan.current}, refuse {plan.refused}")
        self.say("transitions: " + ", ".join(f"{k} {v}" for k, v in sorted(plan.tally.transitions.items())))
        for refused in plan.tally.refused[:3]:
            self.say(f"refused {refused['eventId']}: {'; '.join(refused['reasons'])}")
        after = snapshot(self.target.dynamodb, self.target.settings.table("events"))
        writes = dry.requests.get("UpdateItem", 0) + dry.requests.get("PutItem", 0)
        data = self.state.data
        assert data is not None
        ok = (
            after == before
            and writes == 0
            and plan.refused == len(data.malformed_ids)
            and plan.would_upgrade == len(data.events) - len(data.malformed_ids)
        )
        return ok, f"plans {plan.would_upgrade} upgrades, {plan.refused} refusals; {writes} writes sent, table unchanged: {after == before}"

    def migrate(self) -> Outcome:
        migrate = self._migration()
        hooks = migrate.MigrationHooks(progress=self.progress)
        report = migrate.run_migration(self.target, self._migration_options(), hooks)
        self.state.backup_path = report.backup_file
        summary = report.to_dict()
        self.say(f"backup {report.backup_file} ({report.backup_items} items, checksummed)")
        already = summary["skipped_already_upgraded"]  # e.g. a write retried after a timeout had landed
        self.say(
            f"migrated {summary['migrated']}, already current {already}, refused {summary['refused']}, "
            f"failed {summary['failed']}, in {summary['duration_s']}s ({summary['items_per_s']} events/s)"
        )
        check = self._independent_check()
        data = self.state.data
        assert data is not None
        valid = len(data.events) - len(data.malformed_ids)
        ok = (
            check.ok
            and report.completed
            and summary["migrated"] + already == valid
            and summary["refused"] == len(data.malformed_ids)
            and summary["failed"] == 0
        )
        return ok, f"migrated {summary['migrated']} events; fresh check: {check.summary()}"

    def _independent_check(self, log: OldAppLog | None = None) -> TableCheck:
        data = self.state.data
        assert data is not None
        settings = self.target.settings
        check = check_tables(
            self.target.dynamodb,
            settings.table("events"),
            settings.table("participants"),
            originals={e["eventId"]: e for e in data.events},
            refused=data.malformed_ids,
            app_owned=log.app_owned() if log else {},
        )
        self.say(f"independent check (fresh scan, counted by hand): {check.summary()}")
        for event_id, stored, fresh in check.wrong_counts[:5]:
            self.say(f"[red]count wrong[/] {event_id}: stored {stored}, fresh count {fresh}")
        for event_id, name in check.altered[:5]:
            self.say(f"[red]altered[/] {event_id}: {name}")
        for event_id, problems in check.not_upgraded[:5]:
            self.say(f"[red]not upgraded[/] {event_id}: {'; '.join(problems)}")
        return check

    def verify(self) -> Outcome:
        try:
            from backfill.verify import VerifyOptions, run_verify
        except ImportError as error:
            raise NotLanded(f"backfill.verify ({error})") from error
        result = run_verify(self.target, VerifyOptions(backup_dir=self.options.backup_dir))
        self.say(f"checked {result.items_checked} events against snapshot {result.snapshot}")
        self.say("findings: " + (", ".join(f"{k} {v}" for k, v in result.counts_by_kind().items()) or "none"))
        for finding in result.failures[:3]:
            reason = str(finding.to_json().get("reason", ""))
            self.say(f"{finding.kind.value} {finding.name}: {reason[:90]}{'...' if len(reason) > 90 else ''}")
        # The malformed rows are expected failures of verify (they stay legacy); nothing else is.
        data = self.state.data
        assert data is not None
        unexpected = result.failing_names() - set(data.malformed_ids)
        ok = not unexpected and result.failing_names() == set(data.malformed_ids)
        return ok, (
            f"{result.items_checked} events checked; failing: exactly the {len(data.malformed_ids)} refused rows"
            if ok else f"unexpected failing events: {sorted(unexpected)[:5]}"
        )

    def live_writes(self) -> Outcome:
        try:
            from backfill.live.stream_runner import StreamRunner
        except ImportError as error:
            raise NotLanded(f"backfill.live.stream_runner ({error})") from error

        data = self.state.data
        assert data is not None
        runner = StreamRunner(self.target)
        shards = runner.skip_to_end()
        self.say(f"live path on: stream runner positioned at the end of {shards} shard(s) (like StartingPosition LATEST)")
        valid_ids = [e["eventId"] for e in data.events if e["eventId"] not in set(data.malformed_ids)]
        app = OldApp(self.target.dynamodb, self.target.settings, valid_ids, seed=self.options.seed + 1)
        log = app.run(self.options.live_writes)
        self.state.old_app_log = log
        self.say("old app wrote: " + ", ".join(f"{k} {v}" for k, v in sorted(log.operations.items())))
        drained = runner.drain()
        for table, outcomes in sorted(drained.outcomes.items()):
            self.say(f"stream runner fed {drained.records[table]} {table} records: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
        again = runner.drain()
        self.say(f"a second drain finds {again.total_records()} new records (the handlers' own writes cause no more)")
        failures = self.target.count_items(self.target.settings.failures_table)
        self.say(f"{failures} records listed in {self.target.settings.failures_table} (the old app never touches malformed rows)")
        check = self._independent_check(log)
        stored_ids = set(snapshot(self.target.dynamodb, self.target.settings.table("events")))
        created_ok = log.created <= stored_ids
        ok = check.ok and created_ok and again.total_records() == 0 and not drained.given_up and failures == 0
        return ok, (
            f"{log.total} live writes, {len(log.created)} new old-shape events upgraded, "
            f"{len(log.participants_changed)} events' counts kept exact; {check.summary()}"
        )

    def restore(self) -> Outcome:
        try:
            from backfill.restore import RestoreOptions, run_restore
        except ImportError as error:
            raise NotLanded(f"backfill.restore ({error})") from error
        assert self.state.backup_path is not None and self.state.old_app_log is not None
        self.state.facts["before restore"] = snapshot(self.target.dynamodb, self.target.settings.table("events"))
        options = RestoreOptions(backup_file=Path(self.state.backup_path), backup_dir=self.options.backup_dir)
        result = run_restore(self.target, options)
        self.state.facts["restore"] = result
        counts = result.counts()
        self.say("restore outcomes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for outcome in [o for o in result.outcomes if o.outcome == "conflict_skipped"][:3]:
            self.say(f"conflict kept (changed since the migration wrote it) {outcome.item_name}: {outcome.reason}")
        log = self.state.old_app_log
        conflicts = result.ids("conflict_skipped")
        unexplained = conflicts - log.events_touched
        ok = not unexplained and not result.ids("failed") and result.ids("new_kept") == log.created
        return ok, (
            f"{counts.get('restored', 0)} restored, {len(conflicts)} conflicts kept (all touched by live writes: "
            f"{not unexplained}), {len(result.ids('new_kept'))} new items kept, report {result.report_path}"
        )

    def round_trip(self) -> Outcome:
        """Every backed-up event equals the backup attribute for attribute, except the conflicts
        the restore reported, which must still hold exactly the newer data they held before."""
        assert self.state.backup_path is not None and self.state.old_app_log is not None
        backup = backed_up_events(self.state.backup_path)
        before = self.state.facts["before restore"]
        conflicts = self.state.facts["restore"].ids("conflict_skipped")
        after = snapshot(self.target.dynamodb, self.target.settings.table("events"))
        differs = [e for e, item in backup.items() if e not in conflicts and after.get(e) != item]
        conflicts_changed = [e for e in conflicts if after.get(e) != before.get(e)]
        new_changed = [e for e in self.state.old_app_log.created if after.get(e) != before.get(e)]
        self.say(f"{len(backup) - len(conflicts)} backed-up events compared with the backup: {len(differs)} differ")
        self.say(f"{len(conflicts)} conflicts still hold their newer data: {not conflicts_changed}")
        self.say(f"{len(self.state.old_app_log.created)} events created after the backup kept: {not new_changed}")
        for event_id in differs[:3]:
            self.say(f"[red]differs from backup[/] {event_id}")
        ok = not differs and not conflicts_changed and not new_changed
        return ok, (
            f"{len(backup) - len(conflicts)} events identical to the backup, "
            f"{len(conflicts)} conflicts and {len(self.state.old_app_log.created)} new events kept as written live"
            if ok else f"{len(differs)} differ from backup, {len(conflicts_changed)} conflicts and {len(new_changed)} new items altered"
        )


def backed_up_events(backup_path: str) -> dict[str, dict[str, Any]]:
    from backfill.run.backup import iter_backup_items, load_backup

    return {item["eventId"]: item for item in (to_python(t) for _, t in iter_backup_items(load_backup(backup_path)))}
