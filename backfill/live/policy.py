"""Does an IAM policy document allow an action on a resource? Pure, for pre-flight checks.

Only what a least-privilege policy of this project uses: Allow statements, ``*``/``?``
wildcards in actions and resources, no conditions. A Deny or a condition is treated as not
allowing (the check errs on the side of refusing before anything is created).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def allows(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    for document in documents:
        for statement in _as_list_of_statements(document.get("Statement", [])):
            if statement.get("Effect") != "Allow" or "Condition" in statement:
                continue
            actions = [a.lower() for a in _as_list(statement.get("Action"))]
            if not any(fnmatchcase(action.lower(), pattern) for pattern in actions):
                continue
            if any(fnmatchcase(resource, pattern) for pattern in _as_list(statement.get("Resource"))):
                return True
    return False


def _as_list_of_statements(statements: Any) -> list[Mapping[str, Any]]:
    return [statements] if isinstance(statements, Mapping) else list(statements)
