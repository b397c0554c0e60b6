"""Declarations generated inside the API's space, run end to end beside old and new writers.

Hypothesis draws a declaration (a simple or composite key; 0-3 renames, each a plain rename or a
type change, each in its expand or contract phase; a removal as a structural step; a choice with
legacy aliases and a default; a boolean with a default; a workflow or none; no aggregate or one
count kept by recount or by a membership mirror, seeded once the backfill is done), legacy items over DynamoDB's value range (tests/strategies.py), source
rows, and a sequence of writes (an old app's whole-item puts and updates of old names, a new app's
updates of new names, members joining and leaving). The writes run in one thread (so each row's
writes are ordered) beside the backfill and the live path (the local stream runner calling the
real handlers).

The verdict is this module's model, which shares no code with the rule: it replays the writes on
plain typed items and computes each row's expected final item by hand. Every row must equal it
(attribute by attribute, numbers by value, the count's version attribute only present); verify
must pass; and a restore with the same declaration must return every row no writer touched to
exactly its legacy item.

Narrowed, and why: values the writers write are new each time (a counter), since a pair set back
to values an earlier record saw is the rule's documented blind spot (docs/how-to/rename.md);
workflow writers only move a row forward (the workflow's rule); one count at most (the API's
limit); the key attributes, the choice's values and the fields' names are fixed (names over the
whole range are tests/integration/test_dynamodb_values.py's subject; here the application's own attributes
are). ``DYNAMO_EVOLVE_DECLARATION_EXAMPLES`` (default 3) sets the budget per engine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import Phase as Stage
from hypothesis import event, given, settings
from hypothesis import strategies as st

from backfill.live.stream_runner import RunStats, StreamRunner
from backfill.migrate import MigrationOptions, run_migration
from backfill.mirror.seed import seed_mirror
from backfill.restore import RestoreOptions, run_restore
from backfill.run.backup import newest_backup
from backfill.table.target import Target
from backfill.verify import VerifyOptions, run_verify
from chalicelib.schema import (
    CountOf,
    Field,
    Key,
    Kind,
    Phase,
    Rename,
    Schema,
    Source,
    Step,
    use_schema,
)
from chalicelib.schema.aggregate import Mirror, Recount
from chalicelib.schema.check import declaration_problems
from chalicelib.schema.defaults import constant
from chalicelib.tables import create_tables
from tests.strategies import RELAXED, canonical_item, unowned_attributes

EXAMPLES = int(os.environ.get("DYNAMO_EVOLVE_DECLARATION_EXAMPLES", "3"))
TABLE, SOURCE = "things", "members"
STATES = ("open", "shut", "gone")
ALIASES = {"o": "open", "s": "shut"}
VERSION_FIELD, COUNT, COUNT_VERSION, JUNK = "v", "memberCount", "memberVersion", "junk"
MIRROR, MARKER = "memberMirror", "mirrored"


# --- the model's own representation of each kind of pair: value number n -> typed values ---------

OLD_TYPED: dict[str, Callable[[int], dict[str, Any]]] = {
    "plain": lambda n: {"S": f"v{n}"},
    "number": lambda n: {"S": str(n)},
    "set": lambda n: {"S": f"t{n},u"},
}
NEW_TYPED: dict[str, Callable[[int], dict[str, Any]]] = {
    "plain": lambda n: {"S": f"v{n}"},
    "number": lambda n: {"N": str(n)},
    "set": lambda n: {"SS": [f"t{n}", "u"]},
}


# --- the declaration's conversions (part of the declaration under test) --------------------------

def _digits_to_number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _number_to_digits(value: Any) -> str:
    return str(int(value))


def _text_to_set(value: Any) -> Any:
    found = {part.strip() for part in value.split(",")} - {""} if isinstance(value, str) else set()
    return found or None


def _set_to_text(value: Any) -> str:
    return ",".join(sorted(value))


CONVERSIONS: dict[str, tuple[Kind, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "plain": (Kind.STRING, lambda v: v, lambda v: v),
    "number": (Kind.COUNT, _digits_to_number, _number_to_digits),
    "set": (Kind.STRING_SET, _text_to_set, _set_to_text),
}


def _drop_junk(item: dict[str, Any], _ctx: Any, _problems: list[str]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != JUNK}


@dataclass(frozen=True)
class Pair:
    kind: str
    phase: Phase

    @property
    def old(self) -> str:
        return f"{self.kind}Old"

    @property
    def new(self) -> str:
        return f"{self.kind}New"


@dataclass(frozen=True)
class Generated:
    schema: Schema
    pairs: tuple[Pair, ...]
    counted: bool
    removal: bool
    mirrored: bool  # the count kept by a membership mirror (seeded once the backfill is done)

    @property
    def key_names(self) -> tuple[str, ...]:
        return self.schema.key.names

    @property
    def workflow(self) -> bool:
        return self.schema.status_field is not None


@st.composite
def declarations(draw: st.DrawFn) -> Generated:
    key = Key("pk", "sk") if draw(st.booleans()) else Key("pk")
    kinds = draw(st.permutations(sorted(OLD_TYPED)))[: draw(st.integers(0, 3))]
    pairs = tuple(Pair(kind, draw(st.sampled_from(list(Phase)))) for kind in kinds)
    counted, removal, workflow = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    mirrored = counted and draw(st.booleans())
    fields = [Field(name, Kind.KEY, required=True) for name in key.names]
    fields += [Field("state", Kind.CHOICE, required=True, owned=True, allowed=STATES, aliases=ALIASES,
                     default=constant("open")),
               Field("flag", Kind.BOOLEAN, required=True, owned=True, default=constant(False))]
    renames = []
    for pair in pairs:
        kind, to_new, to_old = CONVERSIONS[pair.kind]
        fields.append(Field(pair.new, kind, owned=True))
        if pair.phase is Phase.EXPAND:
            fields.append(Field(pair.old, Kind.STRING, owned=True))
        renames.append(Rename(pair.old, pair.new, pair.phase, to_new=to_new, to_old=to_old))
    aggregates = ()
    if counted:
        fields += [Field(COUNT, Kind.COUNT, required=True, owned=True, supplied=True),
                   Field(COUNT_VERSION, Kind.COUNT, owned=True)]
        strategy = Mirror(MIRROR, Key("thing", "member"), MARKER) if mirrored else Recount()
        aggregates = (CountOf(COUNT, Source(SOURCE, Key("pk", "memberId")), group_by=key.names,
                              version_field=COUNT_VERSION, strategy=strategy),)
    schema = Schema(table=TABLE, key=key, version=2, version_field=VERSION_FIELD, fields=tuple(fields),
                    status_field="state" if workflow else None, aggregates=aggregates,
                    steps=(Step(1, _drop_junk, writes=(JUNK,)),) if removal else (), renames=tuple(renames))
    return Generated(schema, pairs, counted, removal, mirrored)


# --- rows, writes and the model -----------------------------------------------------------------

APP_NAMES = frozenset({"pk", "sk", "state", "flag", VERSION_FIELD, COUNT, COUNT_VERSION, JUNK, MARKER, "memberId",
                       "oldNote", "newNote", *(f"{k}{side}" for k in OLD_TYPED for side in ("Old", "New"))})


@dataclass
class RowModel:
    """What the application has written to one row, as the model keeps it."""

    key: dict[str, dict[str, Any]]
    unowned: dict[str, dict[str, Any]]  # attributes only the application writes, typed
    state: str | None  # the raw state last written (None: absent)
    flag: bool | None
    values: dict[str, int | None]  # pair kind -> the last write's value number (None: neither name)
    members: set[str] = field(default_factory=set)
    touched: bool = False  # written by a writer (or its members changed) since the legacy item


@st.composite
def legacy_rows(draw: st.DrawFn, generated: Generated, numbers: Callable[[], int]) -> tuple[dict[str, Any], RowModel]:
    """A legacy row (typed, no version attribute) and the model's view of it."""
    index = draw(st.integers(0, 10**6))
    key = {"pk": {"S": f"p{index}"}, **({"sk": {"S": f"s{index % 7}"}} if "sk" in generated.key_names else {})}
    item: dict[str, Any] = dict(key)
    state = draw(st.sampled_from((*STATES, *ALIASES, None)))
    flag = draw(st.sampled_from((True, False, None)))
    if state is not None:
        item["state"] = {"S": state}
    if flag is not None:
        item["flag"] = {"BOOL": flag}
    values: dict[str, int | None] = {}
    for pair in generated.pairs:
        n = numbers()
        shape = draw(st.sampled_from(("old", "both", "new", "none") if pair.phase is Phase.CONTRACT
                                     else ("old", "both", "none")))
        values[pair.kind] = None if shape == "none" else n
        if shape in ("old", "both"):
            item[pair.old] = OLD_TYPED[pair.kind](n)
        if shape in ("new", "both"):
            item[pair.new] = NEW_TYPED[pair.kind](n)
    if generated.removal and draw(st.booleans()):
        item[JUNK] = {"S": "to be removed"}
    unowned = draw(unowned_attributes(APP_NAMES, max_size=3))
    item.update(unowned)
    return item, RowModel(key, dict(unowned), state, flag, values)


Write = tuple[str, int, str]  # (what, row index, pair kind or member id or state)


def writes(generated: Generated, rows: int) -> st.SearchStrategy[list[Write]]:
    """Updates of renamed names weigh most (a row's records then often change different pairs)."""
    kinds = [p.kind for p in generated.pairs]
    states = st.sampled_from((*STATES, *ALIASES))
    what = ["old_put", "state", *(["old_update", "new_update"] * 3 if kinds else []),
            *(["join", "leave"] if generated.counted else [])]

    def argument(kind: str) -> st.SearchStrategy[str]:
        if kind in ("old_update", "new_update"):
            return st.sampled_from(kinds)
        return st.sampled_from(("m1", "m2", "m3")) if kind in ("join", "leave") else states

    one = st.sampled_from(what).flatmap(lambda kind: st.tuples(st.just(kind), st.integers(0, rows - 1), argument(kind)))
    return st.lists(one, min_size=2, max_size=10)


def _canonical_state(raw: str | None) -> str:
    return "open" if raw is None else ALIASES.get(raw, raw)


def _forward(generated: Generated, row: RowModel, raw: str) -> bool:
    """Whether a write of state ``raw`` respects the workflow (always, without one)."""
    return not generated.workflow or STATES.index(_canonical_state(raw)) >= STATES.index(_canonical_state(row.state))


class Writers:
    """Sends the writes (old and new app, members) and replays each on the model, in order."""

    def __init__(self, generated: Generated, dynamodb: Any, settings: Any, model: list[RowModel],
                 numbers: Callable[[], int]) -> None:
        self.generated, self.dynamodb, self.model, self.numbers = generated, dynamodb, model, numbers
        self.table, self.source = settings.table(TABLE), settings.table(SOURCE)

    def run(self, plan: list[Write]) -> None:
        for what, index, arg in plan:
            getattr(self, what)(self.model[index], arg)

    def old_put(self, row: RowModel, state: str) -> None:
        if not _forward(self.generated, row, state):
            return
        n = self.numbers()
        item = {**row.key, "state": {"S": state}, "oldNote": {"S": f"n{n}"}}
        for pair in self.generated.pairs:  # the old app writes every old name it knows
            item[pair.old] = OLD_TYPED[pair.kind](n)
        self.dynamodb.put_item(TableName=self.table, Item=item)
        row.unowned, row.state, row.flag = {"oldNote": {"S": f"n{n}"}}, state, None
        row.values = {pair.kind: n for pair in self.generated.pairs}
        row.touched = True

    def state(self, row: RowModel, state: str) -> None:
        if not _forward(self.generated, row, state) or state == row.state:
            return
        self._update(row, {"state": {"S": state}})
        row.state = state

    def old_update(self, row: RowModel, kind: str) -> None:
        n = self.numbers()
        self._update(row, {f"{kind}Old": OLD_TYPED[kind](n)})
        row.values[kind] = n

    def new_update(self, row: RowModel, kind: str) -> None:
        n = self.numbers()
        self._update(row, {f"{kind}New": NEW_TYPED[kind](n), "newNote": {"S": f"n{n}"}})
        row.values[kind], row.unowned["newNote"] = n, {"S": f"n{n}"}

    def join(self, row: RowModel, member: str) -> None:
        self.dynamodb.put_item(TableName=self.source, Item={"pk": row.key["pk"], "memberId": {"S": member},
                                                           **({"sk": row.key["sk"]} if "sk" in row.key else {})})
        row.members.add(member)
        row.touched = True

    def leave(self, row: RowModel, member: str) -> None:
        self.dynamodb.delete_item(TableName=self.source, Key={"pk": row.key["pk"], "memberId": {"S": member}})
        row.members.discard(member)
        row.touched = True

    def _update(self, row: RowModel, sets: dict[str, dict[str, Any]]) -> None:
        names = {f"#a{i}": name for i, name in enumerate(sets)}
        self.dynamodb.update_item(
            TableName=self.table, Key=row.key, UpdateExpression="SET " + ", ".join(f"{n} = :v{n[2:]}" for n in names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{n[2:]}": sets[name] for n, name in names.items()})
        row.touched = True


def expected_item(generated: Generated, row: RowModel) -> dict[str, Any]:
    """The row as the declaration must leave it, worked out by hand from what was written."""
    item = {**row.key, **row.unowned, "state": {"S": _canonical_state(row.state)},
            "flag": {"BOOL": bool(row.flag)}, VERSION_FIELD: {"N": "2"}}
    for pair in generated.pairs:
        n = row.values.get(pair.kind)
        if n is None:
            continue
        item[pair.new] = NEW_TYPED[pair.kind](n)
        if pair.phase is Phase.EXPAND:
            item[pair.old] = OLD_TYPED[pair.kind](n)
    if generated.counted:
        item[COUNT] = {"N": str(len(row.members))}
    return item


# --- the property ----------------------------------------------------------------------------------

# No shrinking: a shrink replays examples over HTTP for minutes; a failing example is printed as drawn.
@settings(max_examples=EXAMPLES, phases=[Stage.explicit, Stage.reuse, Stage.generate], **RELAXED)
@given(data=st.data())
def test_a_generated_declaration_ends_every_row_as_the_model_says(endpoint, live_settings, tmp_path_factory, data):
    generated = data.draw(declarations(), label="declaration")
    assert declaration_problems(generated.schema) == []
    # what was generated, shown by --hypothesis-show-statistics
    event(f"renames: {len(generated.pairs)}")
    event(f"count: {'mirror' if generated.mirrored else 'recount' if generated.counted else 'none'}")
    counter = iter(range(1, 10**9))
    numbers = lambda: next(counter)  # noqa: E731 - a fresh value number per write
    drawn = data.draw(st.lists(legacy_rows(generated, numbers), min_size=2, max_size=3,
                               unique_by=lambda pair: tuple(v["S"] for v in pair[1].key.values())), label="rows")
    plan = data.draw(writes(generated, len(drawn)), label="writes")
    # The live path beside the writes and the backfill, or (its mapping lagging) only after them; in
    # batches of 1 or 2 records a record often finds its row moved on by later ones.
    live = Live(data.draw(st.booleans(), label="live path beside"),
                data.draw(st.sampled_from((1, 2, 100)), label="batch size"),
                data.draw(st.booleans(), label="writes during the backfill (else after it)"))
    backup_dir = tmp_path_factory.mktemp("run")
    endpoint.reset()
    with use_schema(generated.schema):
        target = Target(settings=live_settings)
        dynamodb = target.dynamodb
        create_tables(dynamodb, live_settings, target.streams)
        model = [row for _item, row in drawn]
        for item, row in drawn:
            dynamodb.put_item(TableName=live_settings.table(TABLE), Item=item)
            if generated.counted:
                for member in sorted(data.draw(st.sets(st.sampled_from(("m1", "m2")), max_size=2), label="members")):
                    Writers(generated, dynamodb, live_settings, model, numbers).join(row, member)
                row.touched = False
        legacy = {_key_of(item): item for item, _row in drawn}
        _run_beside_writers(generated, target, live_settings, model, plan, numbers, backup_dir, live, endpoint.name)
        stored = {_key_of(item): item
                  for item in dynamodb.scan(TableName=live_settings.table(TABLE), ConsistentRead=True)["Items"]}
        for row in model:
            got = stored[_key_of(row.key)]
            assert (COUNT_VERSION in got, MARKER in got) == (generated.counted, generated.mirrored), got
            got = {name: value for name, value in got.items() if name not in (COUNT_VERSION, MARKER)}
            assert canonical_item(got, numbers=True) == canonical_item(expected_item(generated, row), numbers=True)
        assert dynamodb.scan(TableName=live_settings.failures_table)["Items"] == []
        assert run_verify(target, VerifyOptions(backup_dir=backup_dir, total_segments=2)).ok
        # restore with the same declaration: every row no writer touched is its legacy item again
        run_restore(target, RestoreOptions(backup_file=newest_backup(backup_dir, live_settings.table(TABLE)).data_path,
                                           backup_dir=backup_dir))
        restored = {_key_of(item): item
                    for item in dynamodb.scan(TableName=live_settings.table(TABLE), ConsistentRead=True)["Items"]}
        for row in model:
            if not row.touched:
                key = _key_of(row.key)
                assert canonical_item(restored[key], numbers=True) == canonical_item(legacy[key], numbers=True)


def _key_of(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(item[name]["S"] for name in ("pk", "sk") if name in item)


@dataclass(frozen=True)
class Live:
    beside: bool  # polls while the writes and the backfill run (else only drains after them)
    batch_size: int
    during: bool  # the writes run while the backfill runs (else once it is done)


def _run_beside_writers(generated: Generated, target: Target, live_settings: Any, model: list[RowModel],  # noqa: PLR0913
                        plan: list[Write], numbers: Callable[[], int], backup_dir: Any, live: Live,
                        endpoint_name: str) -> None:
    """The writes in one thread (and the live path in another, when beside) while the backfill
    runs; then the streams drained."""
    runner = StreamRunner(Target(settings=live_settings), batch_size=live.batch_size)
    runner.skip_to_end()  # the live path deployed after the legacy rows were written (a mapping at LATEST)
    done, errors = threading.Event(), []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # surfaced below
                errors.append(error)
        return run

    def live_path() -> None:
        while live.beside and not done.is_set():
            runner.poll(RunStats())

    writer = Writers(generated, Target(settings=live_settings).dynamodb, live_settings, model, numbers)
    threads = [threading.Thread(target=guarded(lambda: writer.run(plan))), threading.Thread(target=guarded(live_path))]
    threads[1].start()
    if live.during:
        threads[0].start()
    report = run_migration(target, MigrationOptions(backup_dir=backup_dir, segments=2))
    if not live.during:
        threads[0].start()
    threads[0].join()
    done.set()
    threads[1].join()
    assert not errors, errors
    if generated.mirrored:  # the counts handed over to the mirror, beside the live path (docs/how-to/mirror.md)
        assert seed_mirror(target, segments=1, threads=1 if endpoint_name == "moto" else 4).ok
    stats = runner.drain()
    assert stats.given_up == [] and report.tally.count("failed") == 0, (stats.as_dict(), report)
