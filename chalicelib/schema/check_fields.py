"""Is each field of a declaration usable? Every name a field refers to resolves, and every option
fits the field's kind and what the migration can write (part of ``chalicelib.schema.check``).

Each problem names the field: ``field startedAt: not_before 'nope' is not a declared field``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from chalicelib.schema.spec import Field, Kind, Schema


def field_problems(schema: Schema, fields: Mapping[str, Field]) -> list[str]:
    """Every reason one of ``fields`` (the declaration's, by name) cannot be used."""
    named = Counter(f.name for f in schema.fields if isinstance(f, Field))
    problems = [f"field {name} is declared twice" for name, n in named.items() if n > 1]
    for f in fields.values():
        if isinstance(f.kind, Kind):  # an unknown kind is reported by the caller
            problems += [f"field {f.name}: {problem}" for problem in _problems(f, schema, fields)]
    return problems


def _problems(f: Field, schema: Schema, fields: Mapping[str, Field]) -> list[str]:
    return [*_references(f, fields), *_choice(f), *_writable(f, schema)]


def _references(f: Field, fields: Mapping[str, Field]) -> list[str]:
    """The fields it names (reads, not_before) are declared; its date options fit a TIMESTAMP."""
    problems = [f"reads {name!r}, which is not a declared field" for name in f.reads if name not in fields]
    if f.not_before is not None:
        earlier = fields.get(f.not_before)
        if earlier is None:
            problems.append(f"not_before {f.not_before!r} is not a declared field")
        elif earlier.kind is not Kind.TIMESTAMP:
            problems.append(f"not_before {f.not_before!r} is a {earlier.kind.name} field, not a TIMESTAMP")
    for option in ("not_before", "required_from"):
        if getattr(f, option) is not None and f.kind is not Kind.TIMESTAMP:
            problems.append(f"{option} needs a TIMESTAMP field, not {f.kind.name}")
    if f.derived and f.default is None:
        problems.append("derived without a default to compute it")
    return problems


def _choice(f: Field) -> list[str]:
    """A CHOICE lists its values once each; every alias maps a legacy value to one of them."""
    if f.kind is not Kind.CHOICE:
        return ["allowed and aliases belong to a CHOICE field, not " + f.kind.name] if f.allowed or f.aliases else []
    if not f.allowed:
        return ["a CHOICE field lists its allowed values"]
    problems = [f"allowed lists {value!r} twice" for value, n in Counter(f.allowed).items() if n > 1]
    for legacy, value in f.aliases.items():
        if legacy in f.allowed:  # the repair pass would rewrite a valid value on every item holding it
            problems.append(f"alias {legacy!r} is itself an allowed value")
        elif value not in f.allowed:
            problems.append(f"alias {legacy!r} -> {value!r}, which is not one of {', '.join(f.allowed)}")
    return problems


def _writable(f: Field, schema: Schema) -> list[str]:
    """What the repair pass fills in, the migration must be able to write (only owned fields are)."""
    problems = []
    if f.name in schema.key.names and f.owned:
        problems.append("a key attribute cannot be owned (an UpdateItem cannot change a key)")
    if f.required and f.default is not None and not f.owned and not f.supplied:
        problems.append("required with a default, but not owned: the migration would never write the default, "
                        "and every item would stay invalid")
    if f.supplied and not f.owned:
        problems.append("supplied (an aggregate's value) but not owned")
    return problems
