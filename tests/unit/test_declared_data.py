"""localdev.declared_data: what an old writer of a declaration wrote, read from the declaration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.schema import Step
from examples.orders.schema import ORDERS
from examples.rename.several import THREE_RENAMES
from localdev.declared_data import UnseedableDeclaration, generate


def test_renamed_attributes_are_written_under_their_old_names_in_their_old_representation():
    data = generate(THREE_RENAMES, items=50, source_rows=0)
    # then no item carries a new name, and some carry each old one, as strings
    assert not any({"summary", "priorityLevel", "tagSet"} & set(item) for item in data.items)
    for old in ("description", "priority", "tags"):
        values = [item[old] for item in data.items if old in item]
        assert values and all(isinstance(v, str) for v in values), old
    assert all(item["priority"].isdigit() for item in data.items if "priority" in item)


def test_what_the_migration_fills_in_is_left_out_and_legacy_spellings_appear():
    data = generate(ORDERS, items=60, source_rows=100)
    # then no item has the version attribute, the defaulted currency or the supplied count
    assert not any({"modelVersion", "currency", "itemCount", "itemsVersion"} & set(item) for item in data.items)
    # and states come in the legacy vocabulary too
    states = {item["state"] for item in data.items}
    assert states & {"new", "paid", "sent"} and states <= {"new", "paid", "sent", "cart", "placed", "shipped", "delivered"}
    # and every source row belongs to a seeded order, by the group_by attributes
    orders = {(item["customerId"], item["orderId"]) for item in data.items}
    rows = data.sources["order_items"]
    assert rows and all((row["customerId"], row["orderId"]) in orders for row in rows)


def test_a_declaration_with_structural_steps_is_refused_with_the_reason():
    stepped = replace(ORDERS, steps=(Step(1, lambda item, ctx, problems: item),))
    with pytest.raises(UnseedableDeclaration, match="structural steps"):
        generate(stepped, items=1, source_rows=0)
