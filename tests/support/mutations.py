"""The upgrade rule broken in one place, for mutation checks: the tests' independent judges
(tests/support/event_oracle.py) must notice what the rule's own validation cannot."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.schema import CURRENT, Schema


def waiting_read_as_live() -> Schema:
    """The current declaration with one legacy alias wrong: "waiting" -> "live" (it is "setup")."""
    status = next(f for f in CURRENT.fields if f.name == "status")
    broken = replace(status, aliases={**status.aliases, "waiting": "live"})
    return replace(CURRENT, fields=tuple(broken if f is status else f for f in CURRENT.fields))
