"""Type-exact comparison: what "unchanged" means for DynamoDB values."""

from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from backfill.table.compare import differing_attributes, same_typed


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Decimal("1.50"), Decimal("1.5")),
        (2, Decimal(2)),  # both N
        ({"x", "y"}, {"y", "x"}),
        ({Binary(b"\x01"), Binary(b"\x02")}, {Binary(b"\x02"), Binary(b"\x01")}),
        ({"m": [None, True, {Decimal(1)}]}, {"m": [None, True, {Decimal(1)}]}),
        (Decimal("12345678901234567890123456789012345678"), Decimal("12345678901234567890123456789012345678")),
    ],
)
def test_same_values_of_the_same_type_are_the_same(a, b):
    assert same_typed(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (True, Decimal(1)),  # BOOL vs N: equal in Python, not in DynamoDB
        (False, Decimal(0)),
        ("1", Decimal(1)),
        (Binary(b"a"), "a"),
        ([Decimal(1), Decimal(2)], [Decimal(2), Decimal(1)]),  # lists keep order
        ({"a": Decimal(1)}, {"a": Decimal(1), "b": None}),
        ({"a": [True]}, {"a": [Decimal(1)]}),
        (None, False),
        (Decimal("12345678901234567890123456789012345678"), Decimal("12345678901234567890123456789012345679")),
    ],
)
def test_different_types_or_values_are_different(a, b):
    assert not same_typed(a, b)


def test_differing_attributes_names_changed_removed_and_added():
    before = {"eventId": "e", "name": "a", "gone": Decimal(1), "flag": True, "status": "waiting"}
    after = {"eventId": "e", "name": "b", "flag": True, "new": "x", "status": "setup"}
    assert differing_attributes(before, after, ignore={"status"}) == {
        "gone": "removed", "name": "changed", "new": "added"}
    assert differing_attributes(before, after, only={"status", "flag"}) == {"status": "changed"}
