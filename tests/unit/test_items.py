"""chalicelib.items: typed JSON <-> Python is exact over DynamoDB's whole value space."""

from __future__ import annotations

import copy
import json
import pickle
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backfill.run.backup import decode_item, encode_item
from chalicelib.items import Number, python_value, to_python, to_typed, typed_value
from tests.strategies import (
    EXTREME_NUMBERS,
    RELAXED,
    attribute_names,
    canonical,
    canonical_item,
    exact_number,
    number_texts,
    values,
)

items = st.dictionaries(attribute_names(), values(), max_size=6)


@pytest.mark.parametrize("text", EXTREME_NUMBERS)
def test_numbers_at_the_limits_read_exactly_and_write_back_their_own_text(text):
    # given a number as the service sends it, when read and written back
    number = python_value({"N": text})
    # then it is the exact value and the same text goes back
    assert number == Decimal(text) and isinstance(number, Decimal)
    assert typed_value(number) == {"N": text}


def test_number_sets_nested_in_maps_and_lists_keep_their_text():
    typed = {"M": {"l": {"L": [{"NS": ["1E-130", "0.0000001"]}, {"N": "9.9999999999999999999999999999999999999E+125"}]}}}
    assert canonical(typed_value(python_value(typed))) == canonical(typed)


def test_numbers_computed_in_python_are_written_exactly():
    assert typed_value(5) == {"N": "5"}
    assert typed_value(Decimal("1E-130")) == {"N": "1E-130"}
    assert typed_value(Decimal("12345678901234567890123456789012345678")) == {"N": "12345678901234567890123456789012345678"}


@pytest.mark.parametrize("bad", [1.5, Decimal("NaN"), Decimal("Infinity")])
def test_values_dynamodb_cannot_hold_exactly_are_refused(bad):
    with pytest.raises(TypeError):
        typed_value(bad)


def test_a_wire_number_keeps_its_text_through_copy_and_pickle():
    number = python_value({"N": "0.0000001"})
    for clone in (copy.copy(number), copy.deepcopy(number), pickle.loads(pickle.dumps(number))):
        assert typed_value(clone) == {"N": "0.0000001"}
    assert repr(number) == "Decimal('1E-7')" and isinstance(number + 1, Decimal)


def test_number_refuses_what_is_not_a_dynamodb_number():
    with pytest.raises(ValueError):
        Number("NaN")


@settings(max_examples=100, **RELAXED)
@given(items)
def test_typed_python_typed_round_trip_is_exact(item):
    # when an item as the service returns it goes to Python values and back
    again = to_typed(to_python(item))
    # then it is the same item, number texts included (only set order may differ)
    assert canonical_item(again) == canonical_item(item)


@settings(max_examples=100, **RELAXED)
@given(items)
def test_backup_line_encoding_round_trips_exactly(item):
    # when an item is written as a backup/ledger line (JSON text) and read back
    line = json.dumps(encode_item(item), sort_keys=True, ensure_ascii=False)
    # then it is exactly the item the client returned, set order included
    assert decode_item(json.loads(line)) == item


@settings(max_examples=200, **RELAXED)
@given(number_texts())
def test_generated_numbers_are_within_dynamodb_limits(text):
    value = Decimal(text)
    digits = value.as_tuple().digits
    assert value == 0 or (Decimal("1E-130") <= value.copy_abs() < Decimal("1E+126"))
    assert len(str(int("".join(map(str, digits))))) <= 38


@settings(max_examples=200, **RELAXED)
@given(number_texts(), number_texts())
def test_the_tests_exact_number_spelling_is_one_per_value(a, b):
    # (the helper the integration tests compare restored numbers with)
    assert (exact_number(a) == exact_number(b)) == (Decimal(a) == Decimal(b))
    assert Decimal(exact_number(a)) == Decimal(a)
