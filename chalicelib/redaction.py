"""User data out of logs and terminals: reasons and error messages quote the offending value
(``status 'X' is not one of ...``, Python reprs); ``without_values`` replaces each quoted literal
with ``<value>`` so the text names the attribute and the rule, not the data. Numbers are not
quoted and pass through (counts, versions); the full values stay where they are protected (the
failures table, the run store) and are shown only when an operator asks (``--show-values``).
"""

from __future__ import annotations

import re

VALUE = "<value>"
# A Python repr of a str or bytes value: 'x', "x", b'x' (escapes included).
_QUOTED = re.compile(r"b?'(?:[^'\\]|\\.)*'" "|" r'b?"(?:[^"\\]|\\.)*"')


def without_values(text: str) -> str:
    """``text`` with every quoted literal as <value>."""
    return _QUOTED.sub(VALUE, text)
