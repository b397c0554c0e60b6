"""The count aggregate's strategy in the declaration: recount (the default) or a membership
mirror, whose table, key and marker are checked when the declaration is loaded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.config import Settings, lambda_required
from chalicelib.schema import CURRENT, DeclarationError, Key
from chalicelib.schema.active import load_schema
from chalicelib.schema.aggregate import Mirror, Recount
from chalicelib.schema.mirrored import EVENTS, PARTICIPANT_MEMBERS
from chalicelib.tables import table_definitions
from tests.support.declaration import problems_of


def mirror_problems(mirror: Mirror) -> list[str]:
    [aggregate] = EVENTS.aggregates
    return problems_of(EVENTS, aggregates=(replace(aggregate, strategy=mirror),))


def test_recount_is_the_default_and_the_mirrored_declaration_loads():
    assert CURRENT.aggregates[0].strategy == Recount() and CURRENT.aggregates[0].mirror is None
    schema = load_schema("chalicelib.schema.mirrored:EVENTS")
    [aggregate] = schema.aggregates
    assert aggregate.strategy.name == "mirror" and aggregate.mirror == PARTICIPANT_MEMBERS
    assert schema.mirror_keys == {"participant_members": Key("eventId", "participantId")}
    assert schema.named_tables == ("events", "participants", "participant_members")
    assert "participantCountMirrored" in schema.aggregate_fields
    # the member of a participant row is its participantId, the key attribute outside group_by
    assert aggregate.member({"eventId": "e1", "participantId": "p7"}) == "p7"


@pytest.mark.parametrize(("mirror", "problem"), [
    (Mirror("", Key("eventId", "participantId"), "m"), "the mirror table is not named"),
    (Mirror("participants", Key("eventId", "participantId"), "m"),
     "the mirror table participants is a table the declaration migrates or reads"),
    (Mirror("members", Key("eventId"), "m"), "the mirror key must be Key(partition, sort)"),
    (Mirror("members", Key("eventId", "participantId"), "status"), "the mirror marker status must be an attribute of its own"),
    (Mirror("members", Key("eventId", "participantId"), "countVersion"), "the mirror marker countVersion must be"),
    (Mirror("members", Key("eventId", "participantId"), ""), "the mirror marker attribute is not named"),
])
def test_a_mirror_that_cannot_work_is_refused_when_loaded(mirror, problem):
    problems = mirror_problems(mirror)
    assert len(problems) == 1 and problem in problems[0], problems
    assert problems[0].startswith("aggregate participantCount: ")


def test_a_group_with_no_member_attribute_cannot_be_mirrored():
    [aggregate] = EVENTS.aggregates
    [problem] = problems_of(EVENTS, aggregates=(replace(aggregate, group_by=("eventId",), source=replace(
        aggregate.source, key=Key("eventId"))),))
    assert "every key attribute of participants is in group_by" in problem


def test_an_unknown_strategy_is_named(monkeypatch, tmp_path):
    [aggregate] = EVENTS.aggregates
    [problem] = problems_of(EVENTS, aggregates=(replace(aggregate, strategy="mirror"),))
    assert problem == ("aggregate participantCount: strategy 'mirror' is neither Recount() nor "
                       "Mirror(table, key, marker)")
    module = tmp_path / "bad_mirror.py"
    module.write_text("from dataclasses import replace\nfrom chalicelib.schema.mirrored import EVENTS\n"
                      "A = EVENTS.aggregates[0]\nSCHEMA = replace(EVENTS, aggregates=(replace(A, strategy='x'),))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DeclarationError, match="bad_mirror: aggregate participantCount: strategy 'x'"):
        load_schema("bad_mirror")


def test_init_tables_creates_the_mirror_without_a_stream_and_the_lambda_must_name_it():
    from chalicelib.schema import use_schema

    settings = Settings(tables={"participant_members": "prod-members"})
    with use_schema(EVENTS):
        definitions = {d["TableName"]: d for d in table_definitions(settings)}
        required = lambda_required()
    mirror = definitions["prod-members"]
    assert [k["AttributeName"] for k in mirror["KeySchema"]] == ["eventId", "participantId"]
    assert "StreamSpecification" not in mirror and "StreamSpecification" in definitions["participants"]
    assert "PARTICIPANT_MEMBERS_TABLE" in required
