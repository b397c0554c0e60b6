"""Conversion between DynamoDB's typed JSON and plain Python values (boto3's own serializers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_python(typed_item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in typed_item.items()}


def to_typed(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def typed_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)
