"""Conversion between DynamoDB's typed JSON and plain Python values, exact for every valid value.

boto3's own TypeDeserializer/TypeSerializer pass numbers through a decimal context (38 digits,
exponents -128..126) that traps on DynamoDB's own range: ``1E-130`` raises ``decimal.Underflow``.
Here a number is read with ``Decimal(text)``, which is exact and never rounds, into a ``Number``
that remembers the text the service sent; writing it back sends that same text. So
``to_typed(to_python(x))`` gives back ``x`` value for value and number text for number text
(set elements may come back in another order: a set has none). Everything else is boto3's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


class Number(Decimal):
    """A DynamoDB number read from the wire: an exact Decimal that keeps the service's text."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Number:
        number = super().__new__(cls, text)
        if not number.is_finite():
            raise ValueError(f"not a DynamoDB number: {text!r}")
        number.text = text
        return number

    def __reduce__(self) -> tuple[type[Number], tuple[str]]:  # copy/pickle keep the text
        return (Number, (self.text,))

    def __repr__(self) -> str:
        return f"Decimal('{self}')"


def number_text(value: int | Decimal) -> str:
    """The N text for a number: a wire number's own text, else the exact decimal text.

    No rounding and no range check here: the service is the judge of what it accepts."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, Decimal) and not value.is_finite():
        raise TypeError(f"DynamoDB has no {value} number")
    return str(value)


class _ExactDeserializer(TypeDeserializer):
    def _deserialize_n(self, value: str) -> Number:
        return Number(value)


class _ExactSerializer(TypeSerializer):
    def _serialize_n(self, value: int | Decimal) -> str:
        return number_text(value)


_serializer = _ExactSerializer()
_deserializer = _ExactDeserializer()


def to_python(typed_item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in typed_item.items()}


def to_typed(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def python_value(typed: Mapping[str, Any]) -> Any:
    return _deserializer.deserialize(cast(Any, typed))


def typed_value(value: Any) -> dict[str, Any]:
    return cast(dict[str, Any], _serializer.serialize(value))
