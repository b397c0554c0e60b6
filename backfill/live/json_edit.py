"""Change string values inside a JSON document's text without re-serializing it: pure.

`backfill stream-arns --write` edits .chalice/config.json, a file people format by hand; only
the values asked for change, every other byte (order, spacing, final newline) stays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

_decoder = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def value_span(text: str, path: Sequence[str]) -> tuple[int, int]:
    """Start and end offsets of the value at ``path`` (object keys from the root).

    Raises KeyError naming the first missing key, ValueError if the text is not JSON objects
    along the path.
    """
    at = _skip(text, 0)
    for depth, key in enumerate(path):
        if text[at : at + 1] != "{":
            raise ValueError(f"{'.'.join(path[:depth]) or 'the document'} is not a JSON object")
        at = _skip(text, at + 1)
        found = None
        while text[at : at + 1] != "}":
            name, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
            at = _skip(text, _skip(text, at) + 1)  # past ':'
            if name == key:
                found = at  # the last duplicate wins, as in json.loads
            _, at = _decoder.raw_decode(text, at)
            at = _skip(text, at)
            if text[at : at + 1] == ",":
                at = _skip(text, at + 1)
        if found is None:
            raise KeyError(".".join(path[: depth + 1]))
        at = found
    _, end = _decoder.raw_decode(text, at)
    return at, end


def replace_strings(text: str, parent: Sequence[str], values: Mapping[str, str]) -> str:
    """``text`` with each ``parent + [key]`` value replaced by the JSON string of ``values[key]``."""
    spans = sorted((value_span(text, [*parent, key]), new) for key, new in values.items())
    for (start, end), new in reversed(spans):
        text = text[:start] + json.dumps(new) + text[end:]
    return text
