"""User data out of logs and terminals: reasons and error messages quote the offending value
(``status 'X' is not one of ...``, Python reprs); ``without_values`` replaces each quoted literal
with ``<value>`` so the text names the attribute and the rule, not the data. Numbers are not
quoted and pass through (counts, versions); the full values stay where they are protected (the
failures table, the run store) and are shown only when an operator asks (``--show-values``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

VALUE = "<value>"
# A Python repr of a str or bytes value: 'x', "x", b'x' (escapes included).
_QUOTED = re.compile(r"b?'(?:[^'\\]|\\.)*'" "|" r'b?"(?:[^"\\]|\\.)*"')


def shown(value: Any) -> str:
    """A value as a message quotes it, in DynamoDB's terms rather than Python's: text quoted (so
    ``without_values`` hides it), numbers plain (``2.5``, never ``Decimal('2.5')``), ``true``/``false``,
    ``null``, and sets, lists and maps element by element."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(shown(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    return repr(value)  # str and bytes: quoted


def without_values(text: str) -> str:
    """``text`` with every quoted literal as <value>."""
    return _QUOTED.sub(VALUE, text)
