"""A declaration is checked completely when it is made (``Schema(...)``, ``replace``), so whatever
loads it (``--schema``, the Lambda's ``DYNAMO_EVOLVE_SCHEMA``, a Python caller) gets it refused in
one line naming the declaration, the field and the problem: every name it refers to resolves,
and nothing it accepts is then executed wrongly. Each case here was accepted before (issue 31)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.schema import CountOf, DeclarationError, Field, Kind, Phase, Rename, Source
from chalicelib.schema.active import load_schema
from chalicelib.schema.current import V2
from chalicelib.schema.key import Key
from examples.orders.schema import ORDERS


def with_field(schema, name, **changes):
    """``schema`` with field ``name`` changed."""
    return tuple(replace(f, **changes) if f.name == name else f for f in schema.fields)


def refused(**changes) -> str:
    """The one-line refusal of the events declaration with ``changes``."""
    with pytest.raises(DeclarationError) as raised:
        replace(V2, **changes)
    assert "\n" not in str(raised.value)
    return str(raised.value)


def test_a_required_field_with_a_default_must_be_owned():
    # before: accepted; the plan wrote the new version without the field, invalid by the declaration's own rule
    assert refused(fields=with_field(V2, "visibility", owned=False)) == (
        "declaration events: field visibility: required with a default, but not owned: the migration would "
        "never write the default, and every item would stay invalid")


def test_not_before_names_a_declared_timestamp_field():
    assert refused(fields=with_field(V2, "startedAt", not_before="nope")) == (
        "declaration events: field startedAt: not_before 'nope' is not a declared field")
    assert refused(fields=with_field(V2, "startedAt", not_before="name")) == (
        "declaration events: field startedAt: not_before 'name' is a STRING field, not a TIMESTAMP")


def test_reads_names_declared_fields():
    assert refused(fields=with_field(V2, "lastModified", reads=("createdAt", "ghost"))) == (
        "declaration events: field lastModified: reads 'ghost', which is not a declared field")


def test_an_alias_maps_to_an_allowed_value():
    assert refused(fields=with_field(V2, "status", aliases={"waiting": "setup", "active": "running"})) == (
        "declaration events: field status: alias 'active' -> 'running', which is not one of "
        "draft, setup, live, completed")


def test_an_alias_is_not_itself_an_allowed_value():
    # an allowed value listed as an alias would be rewritten on every item that holds it
    assert refused(fields=with_field(V2, "status", aliases={"live": "setup"})) == (
        "declaration events: field status: alias 'live' is itself an allowed value")


def test_a_field_name_is_declared_once():
    assert refused(fields=(*V2.fields, Field("name", Kind.STRING, required=True))) == (
        "declaration events: field name is declared twice")


def test_field_options_fit_the_kind():
    assert refused(fields=with_field(V2, "name", required_from="live")) == (
        "declaration events: field name: required_from needs a TIMESTAMP field, not STRING")
    assert refused(fields=with_field(V2, "name", allowed=("a",))) == (
        "declaration events: field name: allowed and aliases belong to a CHOICE field, not STRING")
    assert refused(fields=with_field(V2, "visibility", allowed=())) == (
        "declaration events: field visibility: a CHOICE field lists its allowed values")
    assert refused(fields=with_field(V2, "status", allowed=("draft", "setup", "draft", "live", "completed"))) == (
        "declaration events: field status: allowed lists 'draft' twice")
    assert refused(fields=with_field(V2, "isTemplate", derived=True, default=None, owned=True)) == (
        "declaration events: field isTemplate: derived without a default to compute it")


def test_what_the_migration_writes_can_be_written():
    assert refused(fields=with_field(V2, "eventId", owned=True)) == (
        "declaration events: field eventId: a key attribute cannot be owned (an UpdateItem cannot change a key)")
    assert refused(fields=with_field(V2, "participantCount", owned=False)) == (
        "declaration events: field participantCount: supplied (an aggregate's value) but not owned")


def test_group_by_resolves_against_the_keys():
    items = Source("order_items", Key("orderId", "lineId"))
    with pytest.raises(DeclarationError, match=r"^declaration orders: aggregate itemCount: group_by names orderId twice$"):
        replace(ORDERS, aggregates=(CountOf("itemCount", items, ("orderId", "orderId"), "itemsVersion"),))
    with pytest.raises(DeclarationError, match=r"group_by names '' \(not an attribute name\)"):
        replace(ORDERS, aggregates=(CountOf("itemCount", items, ("", "orderId"), "itemsVersion"),))


def test_a_rename_names_neither_the_version_nor_an_aggregate_attribute():
    fields = (*V2.fields, Field("headCount", Kind.COUNT, owned=True))
    assert refused(fields=fields, renames=(Rename("participantCount", "headCount", Phase.EXPAND),)) == (
        "declaration events: rename participantCount -> headCount: participantCount is kept by an aggregate; "
        "rename it in the aggregate instead")
    # during CONTRACT the old name is removed from every item: never the version attribute
    assert refused(renames=(Rename("schemaVersion", "name", Phase.CONTRACT),)) == (
        "declaration events: rename schemaVersion -> name: schemaVersion is the version attribute, which cannot be "
        "renamed")


def test_a_malformed_declaration_module_is_refused_by_load_schema_in_one_line(monkeypatch, tmp_path):
    # the Lambda and --schema both load through load_schema
    (tmp_path / "ghost_reads.py").write_text(
        "from dataclasses import replace\nfrom chalicelib.schema.current import V2\n"
        "F = tuple(replace(f, reads=('ghost',)) if f.name == 'lastModified' else f for f in V2.fields)\n"
        "SCHEMA = replace(V2, fields=F)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DeclarationError) as raised:
        load_schema("ghost_reads")
    assert str(raised.value) == ("declaration ghost_reads: field lastModified: reads 'ghost', which is not a "
                                 "declared field")
