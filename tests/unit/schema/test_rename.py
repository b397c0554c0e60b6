"""Renames and type changes in the declaration: the planner SETs and REMOVEs owned attributes
only, guards on every attribute the rule read (removed ones included), and keeps a pair in step
by the rule of ``chalicelib.schema.rename``. Expectations are written out by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from chalicelib.planner import ABSENT, Verdict, plan_upgrade
from chalicelib.schema import Phase, Rename, Step, validate_item
from chalicelib.schema.check import declaration_problems
from chalicelib.schema.rename import written_between
from examples.rename.schema import CONTRACT, EXPAND
from examples.rename.several import TWO_RENAMES
from examples.rename.typechange import TAGS_CONTRACT, TAGS_EXPAND
from tests.support.declaration import problems_of

CURRENT_V2 = {
    "eventId": "e1", "name": "Quiz", "status": "setup", "visibility": "private", "isTemplate": False,
    "createdAt": Decimal(1_700_000_000_000), "lastModified": Decimal(1_700_000_000_000),
    "participantCount": Decimal(0), "countVersion": Decimal(1), "schemaVersion": Decimal(2),
    "organizerId": "org-1",
}


def v2(**extra):
    return {**CURRENT_V2, **extra}


def test_expand_copies_the_old_name_to_the_new_and_keeps_the_old():
    plan = plan_upgrade(v2(description="Pub quiz"), schema=EXPAND)
    assert plan.verdict is Verdict.WRITE
    assert plan.changes == {"summary": "Pub quiz", "schemaVersion": 3} and plan.removes == ()
    # guarded on both names (and every other owned field), not on the application's own attributes
    assert plan.guard["description"] == "Pub quiz" and plan.guard["summary"] is ABSENT
    assert "organizerId" not in plan.guard and "name" not in plan.guard


def test_contract_removes_the_old_name_in_the_same_write_guarded_on_it():
    expanded = v2(description="Pub quiz", summary="Pub quiz", schemaVersion=Decimal(3))
    plan = plan_upgrade(expanded, schema=CONTRACT)
    assert plan.verdict is Verdict.WRITE
    assert plan.changes == {"schemaVersion": 4} and plan.removes == ("description",)
    assert plan.guard["description"] == "Pub quiz" and plan.guard["summary"] == "Pub quiz"
    assert "description" not in plan.after and validate_item(plan.after, CONTRACT) == []


def test_a_late_old_write_during_contract_becomes_the_new_name():
    # given a contracted row an old writer then saved whole: it has description, not summary
    late = v2(description="Renamed by the old app", schemaVersion=Decimal(4))
    plan = plan_upgrade(late, schema=CONTRACT)
    assert plan.changes == {"summary": "Renamed by the old app"} and plan.removes == ("description",)


def test_out_of_step_names_the_side_the_write_changed_wins_and_unknown_is_refused():
    row = v2(description="old side", summary="new side", schemaVersion=Decimal(3))
    unknown = plan_upgrade(row, schema=EXPAND)
    assert unknown.verdict is Verdict.REFUSED
    assert unknown.reasons == ["summary and description are out of step and no write says which is newer"]
    assert plan_upgrade(row, schema=EXPAND, written=frozenset({"description"})).changes == {"summary": "old side"}
    assert plan_upgrade(row, schema=EXPAND, written=frozenset({"summary"})).changes == {"description": "new side"}
    both = frozenset({"summary", "description"})
    assert plan_upgrade(row, schema=EXPAND, written=both).changes == {"description": "new side"}


def test_validate_names_each_broken_invariant():
    assert validate_item(v2(description="a", schemaVersion=Decimal(3)), EXPAND) == [
        "summary is missing while description is set (renamed, kept in step)"]
    assert validate_item(v2(description="a", summary="b", schemaVersion=Decimal(3)), EXPAND) == [
        "summary 'b' is not in step with description 'a'"]
    assert validate_item(v2(description="a", summary="a", schemaVersion=Decimal(4)), CONTRACT) == [
        "description is present: renamed to summary and removed"]
    assert validate_item(v2(schemaVersion=Decimal(3)), EXPAND) == []  # neither name: nothing to keep in step


def test_a_type_change_converts_both_ways_and_refuses_what_it_cannot_convert():
    # tags: a comma-separated string (old) -> tagSet: a string set (new)
    plan = plan_upgrade(v2(tags="beer, quiz"), schema=TAGS_EXPAND)
    assert plan.changes == {"tagSet": {"beer", "quiz"}, "schemaVersion": 3}
    new_writer = plan_upgrade(v2(tags="beer", tagSet={"quiz", "beer"}, schemaVersion=Decimal(3)),
                              schema=TAGS_EXPAND, written=frozenset({"tagSet"}))
    assert new_writer.changes == {"tags": "beer,quiz"}
    contracted = plan_upgrade(v2(tags="a,b", tagSet={"a", "b"}, schemaVersion=Decimal(3)), schema=TAGS_CONTRACT)
    assert contracted.removes == ("tags",) and contracted.changes == {"schemaVersion": 4}
    refused = plan_upgrade(v2(tags=" , "), schema=TAGS_EXPAND)
    assert refused.verdict is Verdict.REFUSED and refused.reasons == ["tags ' , ' cannot be converted to tagSet"]


def test_a_rename_the_declaration_does_not_back_is_refused_when_loaded():
    assert declaration_problems(EXPAND) == [] and declaration_problems(CONTRACT) == []
    assert declaration_problems(TAGS_EXPAND) == [] and declaration_problems(TAGS_CONTRACT) == []
    undeclared = problems_of(EXPAND, renames=(Rename("description", "abstract", Phase.EXPAND),))
    assert undeclared == ["rename description -> abstract: the new name is not declared as a field"]
    still_declared = problems_of(EXPAND, renames=(Rename("description", "summary", Phase.CONTRACT),))
    assert still_declared == [
        "rename description -> summary: during CONTRACT the old name is removed, so it is no longer a field"]


def test_an_old_writers_whole_item_put_writes_the_old_name_even_with_its_old_value():
    expanded = {"description": "Pub quiz", "summary": "Retro"}  # the new app changed summary since
    # a put of the old shape (summary dropped) with the description it already had
    assert written_between(expanded, {"description": "Pub quiz"}, EXPAND) == {"description"}
    # an update that changes nothing writes nothing (DynamoDB Streams has no record of it either)
    assert written_between(expanded, dict(expanded), EXPAND) == frozenset()
    assert written_between(expanded, {**expanded, "summary": "Quiz"}, EXPAND) == {"summary"}


def test_a_step_that_removes_an_attribute_writes_only_what_it_declares_and_guards_what_it_read():
    # given v3 split fullName into firstName and lastName (it reads fullName, writes all three)
    def split(item, ctx, problems):
        first, _, last = item.pop("fullName", "").partition(" ")
        return {**item, "firstName": first, "lastName": last, "scratch": "not declared"}

    schema = replace(EXPAND, renames=(), version=3, steps=(
        Step(2, split, reads=("fullName",), writes=("fullName", "firstName", "lastName")),))
    plan = plan_upgrade(v2(fullName="Ada Lovelace", organizerId="org-1"), schema=schema)
    assert plan.changes == {"firstName": "Ada", "lastName": "Lovelace", "schemaVersion": 3}
    assert plan.removes == ("fullName",) and plan.guard["fullName"] == "Ada Lovelace"
    assert "scratch" not in plan.changes and "organizerId" not in plan.guard


# --- several renames: each pair decided on its own -------------------------------------------------

def _two(**extra):
    """An expanded row of examples.rename.several.TWO_RENAMES, both pairs in step, then ``extra``."""
    return {**v2(description="Quiz", summary="Quiz", priority="1", priorityLevel=Decimal(1),
                 schemaVersion=Decimal(3)), **extra}


def test_a_write_of_one_pair_settles_it_and_leaves_a_deferred_pair_exactly_as_it_is():
    # priority written (7), and summary changed by a later write whose record decides it
    row = _two(priority="7", summary="Later")
    plan = plan_upgrade(row, written=frozenset({"priority"}), deferred=frozenset({"description", "summary"}),
                        schema=TWO_RENAMES)
    assert plan.verdict is Verdict.WRITE and plan.changes == {"priorityLevel": 7} and plan.removes == ()
    # without the deferral the pair no write decides is refused, named as undecided
    refused = plan_upgrade(row, written=frozenset({"priority"}), schema=TWO_RENAMES)
    assert refused.verdict is Verdict.REFUSED and refused.undecided == ("summary",)
    assert refused.reasons == ["summary and description are out of step and no write says which is newer"]


def test_a_deferred_pair_gets_nothing_carried_into_it():
    # an old whole-item put dropped summary; a carried summary would be stale for a deferred pair
    row = {k: v for k, v in _two(description="Put").items() if k != "summary"}
    plan = plan_upgrade(row, carry={"summary": "Stale"}, deferred=frozenset({"description", "summary"}),
                        schema=TWO_RENAMES)
    assert plan.verdict is Verdict.CURRENT and "summary" not in plan.changes


def test_the_backfill_orders_two_racing_writes_only_when_one_name_changed():
    read = {"description": "Quiz", "summary": "Quiz"}
    # one name changed between the read and the failed write: that name was written last
    assert written_between(read, {"description": "Old", "summary": "Quiz"}, EXPAND, one_write=False) == {"description"}
    # both changed: several writes, order unknown: nothing said (one record: the new name wins)
    both = {"description": "Old", "summary": "New"}
    assert written_between(read, both, EXPAND, one_write=False) == frozenset()
    assert written_between(read, both, EXPAND) == {"description", "summary"}
