"""Reasons quote values in DynamoDB's terms, never as Python reprs (Decimal('1'), None)."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.redaction import shown, without_values
from chalicelib.schema import CURRENT
from chalicelib.schema.rule import validate


def test_values_are_shown_as_dynamodb_has_them():
    assert [shown(v) for v in (Decimal("2.5"), None, True, "x", {"b", "a"}, [Decimal(1), "y"])] == [
        "2.5", "null", "true", "'x'", "{'a', 'b'}", "[1, 'y']"]
    assert shown({"m": Decimal(3)}) == "{m: 3}"


def test_a_legacy_items_reasons_name_no_python_type():
    # given a legacy event whose version is missing, and whose status is a number
    reasons = validate({"eventId": "e1", "name": "n", "status": Decimal(1), "createdAt": Decimal(1_700_000_000_000)},
                       CURRENT)
    text = "; ".join(reasons)
    # then the reasons speak of a missing version and the number 1, and hide nothing a value would show
    assert "schemaVersion is missing, expected 2" in text and "status 1 is not one of" in text
    assert "Decimal" not in text and "None" not in text
    assert "Decimal" not in without_values(text)
