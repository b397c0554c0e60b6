"""Validation and repair are derived from the declaration: a schema is a value, and a changed
declaration changes both, with no other code touched."""

from dataclasses import replace
from decimal import Decimal

import pytest

from chalicelib.schema import (
    CURRENT,
    Field,
    Kind,
    Step,
    UpgradeRefused,
    active_schema,
    needs_upgrade,
    upgrade_item,
    use_schema,
    validate_item,
)
from chalicelib.schema.active import load_schema

CREATED = Decimal(1_700_000_000_000)
LEGACY = {"eventId": "e1", "name": "Quiz", "status": "waiting", "createdAt": CREATED}


def with_fields(*fields, version=3, steps=()):
    return replace(CURRENT, version=version, fields=CURRENT.fields + tuple(fields), steps=steps)


def test_a_declared_field_is_validated_and_defaulted_with_no_other_code():
    # given a schema that adds a required choice with a default
    schema = with_fields(Field("tier", Kind.CHOICE, required=True, owned=True, allowed=("free", "paid"),
                               default=lambda item, ctx: "free"))
    # when a legacy item and a current-v2 item are upgraded to it
    upgraded = upgrade_item(LEGACY, aggregates={"participantCount": 1}, schema=schema)
    from_v2 = upgrade_item(upgrade_item(LEGACY, aggregates={"participantCount": 1}), schema=schema)
    # then both get the default and the new version, and validate against it
    assert upgraded["tier"] == from_v2["tier"] == "free" and upgraded["schemaVersion"] == 3
    assert validate_item(upgraded, schema) == []
    # and the current (v2) schema's valid items are not valid v3 items
    assert needs_upgrade(upgrade_item(LEGACY, aggregates={"participantCount": 1}), schema)
    assert "tier 'gold' is not one of free, paid" in validate_item({**upgraded, "tier": "gold"}, schema)


def test_the_repair_pass_runs_whatever_the_version():
    # given a v3 row an old writer set back to a legacy status
    schema = with_fields(Field("tier", Kind.STRING, default=lambda item, ctx: "free"))
    row = upgrade_item(LEGACY, aggregates={"participantCount": 1}, schema=schema)
    touched = {**row, "status": "active"}
    # when it is upgraded again
    repaired = upgrade_item(touched, observed_at_ms=int(CREATED) + 7, schema=schema)
    # then the alias is mapped and the transition dated, not refused
    assert repaired["status"] == "live" and repaired["startedAt"] == int(CREATED) + 7


def test_structural_steps_run_only_from_the_item_version():
    # given v3 renames "name" to "title"
    def rename(item, ctx, problems):
        out = dict(item)
        if "name" in out:
            out["title"] = out.pop("name")
        return out

    fields = tuple(f for f in CURRENT.fields if f.name != "name") + (Field("title", Kind.STRING),)
    schema = replace(CURRENT, version=3, fields=fields, steps=(Step(2, rename),))
    # then a v1 and a v2 item are renamed, and a v3 item is left alone
    v2 = upgrade_item(LEGACY, aggregates={"participantCount": 0})
    assert upgrade_item(LEGACY, aggregates={"participantCount": 0}, schema=schema)["title"] == "Quiz"
    assert upgrade_item(v2, schema=schema)["title"] == "Quiz"
    v3 = {**upgrade_item(v2, schema=schema), "name": "kept: not the schema's"}
    assert upgrade_item(v3, schema=schema)["name"] == "kept: not the schema's"


def test_a_step_that_cannot_apply_refuses_with_its_reason():
    def split(item, ctx, problems):
        problems.append("cannot split 'Quiz'")
        return dict(item)

    with pytest.raises(UpgradeRefused, match="cannot split"):
        upgrade_item(LEGACY, aggregates={"participantCount": 0}, schema=replace(CURRENT, version=3, steps=(Step(2, split),)))


def test_owned_and_input_fields_and_the_workflow_come_from_the_declaration():
    assert CURRENT.owned == {"status", "visibility", "isTemplate", "lastModified", "startedAt",
                             "completedAt", "participantCount", "countVersion", "schemaVersion"}
    assert CURRENT.inputs == {"createdAt"}
    assert CURRENT.workflow == ("draft", "setup", "live", "completed")
    assert [CURRENT.canonical_status(s) for s in ("waiting", "active", "completed", "x", 3)] == [
        "setup", "live", "completed", None, None]
    assert CURRENT.dated() == {"startedAt": "live", "completedAt": "completed"}


def test_a_schema_is_activated_as_a_value_for_a_block():
    schema = with_fields(Field("tier", Kind.STRING))
    assert active_schema() is CURRENT
    with use_schema(schema):
        assert active_schema() is schema
        assert upgrade_item(LEGACY, aggregates={"participantCount": 0})["schemaVersion"] == 3
    assert active_schema() is CURRENT


def test_a_schema_named_in_the_environment_must_exist(monkeypatch):
    assert load_schema("chalicelib.schema.current:V2") is CURRENT
    with pytest.raises(ValueError, match="declaration chalicelib.schema.current:NOPE: module chalicelib.schema.current has no NOPE"):
        load_schema("chalicelib.schema.current:NOPE")


def test_a_schema_named_in_the_environment_is_the_active_one(monkeypatch):
    monkeypatch.setenv("DYNAMO_EVOLVE_SCHEMA", "examples.v3.schema:V3")
    from examples.v3.schema import V3

    assert active_schema() is V3
