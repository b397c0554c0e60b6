"""Hypothesis strategies over DynamoDB's value space, as typed JSON (what the wire carries).

Values are generated as the low-level client sends and receives them (``{"N": "1E-130"}``,
``{"B": b"..."}``), never through the project's own serializer, so the code under test cannot
shape its own input. Limits from DynamoDB's documentation: numbers have up to 38 significant
digits, magnitudes from 1E-130 to 9.9999999999999999999999999999999999999E+125 (and 0); strings
and binary may be empty outside keys; sets are non-empty and hold distinct values; maps and lists
nest up to 32 levels; attribute names are any non-empty UTF-8 text.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck
from hypothesis import strategies as st

# For properties over these values: generation is heavy and the machine is shared, so slowness is
# not a failure (the examples stay few and bounded instead).
RELAXED = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
}

# Numbers at DynamoDB's limits, as text the service accepts.
EXTREME_NUMBERS: tuple[str, ...] = (
    "1E-130",
    "-1E-130",
    "9.9999999999999999999999999999999999999E+125",
    "-9.9999999999999999999999999999999999999E+125",
    "1.2345678901234567890123456789012345678E-130",
    "9.9999999999999999999999999999999999999E-130",
    "12345678901234567890123456789012345678",
    "-0.00000000000000000000000000000000000012345678901234567890123456789012345678",
    "0.0000001",
    "0",
)

# Names an UpdateExpression could not use unescaped, and names with punctuation and other scripts.
AWKWARD_NAMES: tuple[str, ...] = (
    "status", "name", "size", "data", "count", "timestamp", "value", "key", "user", "select",
    "a.b", "a[0]", "#n", ":v", "with space", "ünïcödé", "ライブ", "emoji-🎉", "-", "$", "x" * 255,
)


def _number_text(digits: str, exponent: int, negative: bool) -> str:
    """``digits`` (no leading zero) times 10**exponent as text, in plain or E notation."""
    value = Decimal(f"{'-' if negative else ''}{digits}E{exponent}")
    return str(value)


@st.composite
def number_texts(draw: st.DrawFn) -> str:
    """Any DynamoDB number: 1..38 significant digits, magnitude in [1E-130, 1E+126) or zero."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(EXTREME_NUMBERS))
    precision = draw(st.integers(1, 38))
    digits = str(draw(st.integers(10 ** (precision - 1), 10**precision - 1))).rstrip("0") or "0"
    if digits == "0":
        return "0"
    # adjusted exponent (position of the leading digit) within [-130, 125]
    adjusted = draw(st.integers(-130, 125))
    exponent = adjusted - (len(digits) - 1)
    return _number_text(digits, exponent, draw(st.booleans()))


# The strategy builders below are cached: composites call them on every draw, and hypothesis
# validates a new strategy object on its first draw (40 % of the property tests' CPU before this).
@functools.cache
def attribute_names(*, avoid: frozenset[str] = frozenset()) -> st.SearchStrategy[str]:
    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
    return st.one_of(st.sampled_from(AWKWARD_NAMES), text).filter(lambda n: n not in avoid)


strings = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
binaries = st.binary(max_size=20)


def _distinct_numbers(texts: list[str]) -> bool:
    return len({Decimal(t) for t in texts}) == len(texts)


scalars: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.builds(lambda s: {"S": s}, strings),
    st.builds(lambda n: {"N": n}, number_texts()),
    st.builds(lambda b: {"B": b}, binaries),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(strings, min_size=1, max_size=5, unique=True)),
    st.builds(lambda v: {"NS": v}, st.lists(number_texts(), min_size=1, max_size=5).filter(_distinct_numbers)),
    st.builds(lambda v: {"BS": v}, st.lists(binaries, min_size=1, max_size=5, unique=True)),
)


@functools.cache
def values(max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """Any attribute value, with lists and maps nesting scalars and each other."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.builds(lambda v: {"L": v}, st.lists(children, max_size=4)),
            st.builds(lambda v: {"M": v}, st.dictionaries(attribute_names(), children, max_size=4)),
        ),
        max_leaves=max_leaves,
    )


def deep_value(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    """``leaf`` nested ``depth`` levels deep, alternating maps and lists (DynamoDB allows 32)."""
    value = leaf
    for level in range(depth):
        value = {"M": {f"level{level}": value}} if level % 2 else {"L": [value]}
    return value


@functools.cache
def unowned_attributes(owned: frozenset[str], max_size: int = 5) -> st.SearchStrategy[dict[str, dict[str, Any]]]:
    """Attributes the migration does not own (names never collide with ``owned``)."""
    return st.dictionaries(attribute_names(avoid=owned), values(), max_size=max_size)


def exact_number(text: str) -> str:
    """A number's exact value as text, one spelling per value ("0.0010" and "1E-3" -> "1E-3").

    No decimal context is involved, so nothing is rounded."""
    sign, digits, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).lstrip("0")
    if not shown:
        return "0"
    stripped = shown.rstrip("0")
    return f"{'-' if sign else ''}{stripped}E{exponent + len(shown) - len(stripped)}"


def canonical(value: dict[str, Any], *, numbers: bool = False) -> dict[str, Any]:
    """A typed value with set elements sorted (a set has no order; everything else is kept).

    ``numbers``: compare numbers by exact value, not spelling. An engine may spell the number a
    write stored differently from the one it was given (DynamoDB Local answers a PutItem's number
    in plain notation and the same number set by UpdateItem in E notation)."""
    (tag, inner), = value.items()
    if tag == "N" and numbers:
        return {"N": exact_number(inner)}
    if tag == "NS" and numbers:
        return {"NS": sorted(exact_number(n) for n in inner)}
    if tag in ("SS", "NS", "BS"):
        return {tag: sorted(inner)}
    if tag == "M":
        return {"M": {name: canonical(child, numbers=numbers) for name, child in inner.items()}}
    if tag == "L":
        return {"L": [canonical(child, numbers=numbers) for child in inner]}
    return {tag: inner}


def canonical_item(item: dict[str, Any], *, numbers: bool = False) -> dict[str, Any]:
    return {name: canonical(value, numbers=numbers) for name, value in item.items()}


# Attributes the upgrade rule reads or owns; generated application attributes avoid them.
RULE_FIELDS: frozenset[str] = frozenset({
    "eventId", "name", "topic", "description", "createdAt", "status", "visibility", "isTemplate",
    "lastModified", "participantCount", "startedAt", "completedAt", "schemaVersion", "countVersion",
})


_numbers_or_scalars = st.builds(lambda n: {"N": n}, number_texts()) | scalars


@st.composite
def legacy_events(draw: st.DrawFn, event_id: str | None = None) -> dict[str, Any]:
    """A legacy (v1) event in typed JSON with application attributes over the whole value space.

    Sometimes an owned field holds a value the migration overwrites (a stray participantCount, an
    explicit schemaVersion 1), so restore has to put back exactly what was there."""
    item: dict[str, Any] = {
        "eventId": {"S": event_id or draw(st.text(min_size=1, max_size=12))},
        "name": {"S": draw(strings)},
        "status": {"S": draw(st.sampled_from(("waiting", "active", "completed")))},
        # within the rule's plausible window (2000 .. 2025-11-24); outside it the rule refuses
        "createdAt": {"N": str(draw(st.integers(946_684_800_000, 1_764_000_000_000)))},
    }
    if draw(st.booleans()):
        item["participantCount"] = draw(_numbers_or_scalars)
    if draw(st.booleans()):
        item["schemaVersion"] = {"N": "1"}
    item.update(draw(unowned_attributes(RULE_FIELDS)))
    return item
