"""Renames (and type changes) while old writers still run: the rule both phases follow.

The two names of a ``Rename`` are one logical attribute. Whatever version wrote the item:

- only the old name present (an old writer, or its whole-item put that dropped the new name):
  the new one becomes ``to_new(old)``;
- only the new name present: during EXPAND the old one becomes ``to_old(new)`` (old readers
  still read it); during CONTRACT nothing to do;
- both present and in step (``to_new(old) == new``): nothing to do during EXPAND;
- both present and out of step: the side the write being upgraded changed wins (``Context.written``:
  the live path reads it from the stream records, the backfill from what changed between its read
  and a write that failed its guard), as if both had written one attribute: the later write wins.
  One write that changed both names: the new one wins (its writer knows both). When no write says
  which side is newer, the item is refused (reported, left as it is), never guessed.

Several renames in one declaration: each pair is decided on its own, from the writes of that pair
only. A pair the write being upgraded must not decide (``Context.deferred``: it changed again since
that write, and the later write's own record decides it) is left exactly as it is: neither set nor
refused nor judged. The backfill knows which side was written only when one name of a pair changed
between its read and its failed write; when both did, several writes happened and their order is
unknown: it refuses the item (the live path settles the pair from the records).
- CONTRACT then removes the old name. A late write of the old name is therefore taken as a write
  of the new name, then removed: no value is lost, and no reader of the new name misses it.

Pure: items in, items out. ``validate`` reports an item that breaks the phase's invariant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.redaction import shown
from chalicelib.schema.spec import Context, Phase, Rename, Schema
from chalicelib.schema.values import same_typed


def _in_step(rename: Rename, old: Any, new: Any) -> bool:
    converted = rename.to_new(old)
    return converted is not None and same_typed(converted, new)


def _converted(rename: Rename, value: Any, problems: list[str]) -> Any:
    converted = rename.to_new(value)
    if converted is None:
        problems.append(f"{rename.old} {shown(value)} cannot be converted to {rename.new}")
    return converted


@dataclass(frozen=True)
class PairKnowledge:
    """What a write being upgraded says of the rename pairs (``Context.written``, ``Context.deferred``)."""

    written: frozenset[str] = frozenset()
    deferred: frozenset[str] = frozenset()


def _names(rename: Rename) -> frozenset[str]:
    return frozenset((rename.old, rename.new))


def undecided(item: Mapping[str, Any], schema: Schema, ctx: Context) -> tuple[Rename, ...]:
    """The pairs of ``item`` that are out of step while no write says which side is newer."""
    return tuple(r for r in schema.renames
                 if r.old in item and r.new in item and not _in_step(r, item[r.old], item[r.new])
                 and not (ctx.written | ctx.deferred) & _names(r))


def sync(item: dict[str, Any], schema: Schema, ctx: Context, problems: list[str]) -> dict[str, Any]:
    """``item`` with every rename pair brought to its phase's shape (module rule)."""
    out = dict(item)
    refused = undecided(out, schema, ctx)
    for rename in schema.renames:
        if ctx.deferred & _names(rename):
            continue  # a later write's record decides this pair
        has_old, has_new = rename.old in out, rename.new in out
        if has_old and (not has_new or not _in_step(rename, out[rename.old], out[rename.new])):
            if rename in refused:
                problems.append(f"{rename.new} and {rename.old} are out of step and no write says which is newer")
                continue
            if not has_new or rename.new not in ctx.written:
                converted = _converted(rename, out[rename.old], problems)
                if converted is None:
                    continue
                out[rename.new] = converted
            elif rename.phase is Phase.EXPAND:
                out[rename.old] = rename.to_old(out[rename.new])
        elif has_new and not has_old and rename.phase is Phase.EXPAND:
            out[rename.old] = rename.to_old(out[rename.new])
        if rename.phase is Phase.CONTRACT:
            out.pop(rename.old, None)
    return out


def written_between(before: Mapping[str, Any], after: Mapping[str, Any], schema: Schema, *,
                    one_write: bool = True) -> frozenset[str]:
    """The names of rename pairs that a write between ``before`` and ``after`` wrote: a value set
    anew, and the old name of a pair whose new name it dropped while leaving the old one (an old
    writer's whole-item put, which writes the old name even with the value it already had).

    ``one_write=False``: any number of writes happened between the two (the backfill's read and
    the item its failed write returned). A pair both of whose names changed then says nothing
    (which was written last is unknown), so it is left out.

    A write that changes nothing is invisible here, as it is to DynamoDB Streams (no record)."""
    written: set[str] = set()
    for rename in schema.renames:
        names = {name for name in (rename.old, rename.new)
                 if name in after and (name not in before or not same_typed(before[name], after[name]))}
        if rename.new in before and rename.new not in after and rename.old in after:
            names.add(rename.old)
        if one_write or len(names) < 2:
            written |= names
    return frozenset(written)


def rename_problems(item: Mapping[str, Any], schema: Schema, deferred: frozenset[str] = frozenset()) -> list[str]:
    """Why ``item`` breaks a rename's invariant ([] when it does not). Pairs named in ``deferred``
    are not judged (``Context.deferred``)."""
    problems = []
    for rename in schema.renames:
        if deferred & _names(rename):
            continue
        has_old, has_new = rename.old in item, rename.new in item
        if rename.phase is Phase.CONTRACT:
            if has_old:
                problems.append(f"{rename.old} is present: renamed to {rename.new} and removed")
        elif has_old != has_new:
            present, absent = (rename.old, rename.new) if has_old else (rename.new, rename.old)
            problems.append(f"{absent} is missing while {present} is set (renamed, kept in step)")
        elif has_old and not _in_step(rename, item[rename.old], item[rename.new]):
            problems.append(f"{rename.new} {shown(item[rename.new])} is not in step with {rename.old} {shown(item[rename.old])}")
    return problems
