"""A number type change as docs/declaration.md declares it today: a Rename to a Kind.COUNT field (the
only number kind). What it can hold and what it refuses, as documented."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from chalicelib.planner import Verdict, plan_upgrade
from chalicelib.schema import Field, Kind, Phase, Rename
from chalicelib.schema.current import V2


def as_level(text):
    return int(text) if isinstance(text, str) and text.isdigit() else None


def declared(to_new):
    return replace(V2, version=3, fields=(*V2.fields, Field("priority", Kind.STRING, owned=True),
                                          Field("priorityLevel", Kind.COUNT, owned=True)),
                   renames=(Rename("priority", "priorityLevel", Phase.EXPAND, to_new=to_new, to_old=str),))


LEGACY = {"eventId": "e1", "name": "x", "status": "waiting", "createdAt": Decimal(1600000000000),
          "participantCount": Decimal(0), "countVersion": Decimal(1)}


def test_a_string_becomes_a_non_negative_integer():
    plan = plan_upgrade({**LEGACY, "priority": "3"}, schema=declared(as_level))
    assert plan.verdict is Verdict.WRITE and plan.changes["priorityLevel"] == 3


@pytest.mark.parametrize(("text", "reason"), [
    ("2.5", "priorityLevel is not a non-negative integer: 2.5"),
    ("-2", "priorityLevel is not a non-negative integer: -2"),
])
def test_a_number_count_cannot_hold_is_refused_not_written(text, reason):
    # a conversion to any number: Kind.COUNT holds non-negative integers only, so the item is refused
    plan = plan_upgrade({**LEGACY, "priority": text}, schema=declared(Decimal))
    assert plan.verdict is Verdict.REFUSED and plan.reasons == [reason]
