"""What a legacy write cannot express, carried forward from the item's earlier images.

An old writer saves whole items in the legacy shape: a ``PutItem`` of its key, name, status,
createdAt (and attributes of its own) over an item the new application had already given a
visibility, a template flag, a topic, a description and transition dates. Its stream record
carries the ``OldImage``; this module walks one item's records of a batch, in order, and works
out what the item held of those fields, so the upgrade can put them back (guarded: each is
written only while still absent, see ``chalicelib.planner``).

Dates follow the transitions: a transition that already happened keeps its date; one that a
record makes is dated by that record's ApproximateCreationDateTime, not by the batch's last.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.schema import active_schema, needs_upgrade
from chalicelib.schema.rename import PairKnowledge, written_between
from chalicelib.schema.values import as_timestamp, same_typed


@dataclass(frozen=True)
class ImageChange:
    """One stream record of one event: its images and when it was made (ms, or None)."""

    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    at_ms: int | None


def mapped_status(image: Mapping[str, Any] | None) -> str | None:
    """The image's status in the current vocabulary (None when absent or unknown)."""
    schema = active_schema()
    return schema.canonical_status(schema.status(image or {}))


def _held(image: Mapping[str, Any]) -> dict[str, Any]:
    # The fields a legacy write has no way to express, and the transition dates.
    schema = active_schema()
    return {name: image[name] for name in (*schema.carried, *schema.dated()) if name in image}


def known_state(changes: Sequence[ImageChange]) -> dict[str, Any]:
    """What the item holds after ``changes`` of the carried and dated fields."""
    state: dict[str, Any] = {}
    status: str | None = None
    for change in changes:
        if change.old is not None:
            status = mapped_status(change.old)
            # A current image is the truth; a legacy one only adds what it still holds.
            state = _held(change.old) if not needs_upgrade(change.old) else {**state, **_held(change.old)}
        if change.new is None:  # deleted: nothing to carry into a later re-insert
            state, status = {}, None
            continue
        if not needs_upgrade(change.new):  # the new application wrote it: absences are meant
            state, status = _held(change.new), mapped_status(change.new)
            continue
        state = {**state, **_held(change.new)}
        new_status = mapped_status(change.new)
        schema = active_schema()
        for name, milestone in schema.dated().items():
            if not schema.reached(new_status, milestone):
                state.pop(name, None)  # e.g. a completed event put back to active
            elif name not in change.new and not schema.reached(status, milestone):  # this record made it
                state[name] = _transition_date({**change.new, **state}, name, change.at_ms)
        status = new_status
    return {name: value for name, value in state.items() if value is not None}


def _transition_date(known: Mapping[str, Any], name: str, at_ms: int | None) -> int | None:
    """When a record made a transition: its own time, never before the date it follows (taken
    from ``known``: the state worked out so far over the record's new image)."""
    if at_ms is None:
        return None  # let the rule date it
    earlier = active_schema().field(name).not_before
    floor = as_timestamp(known.get(earlier)) if earlier is not None else None
    return max(at_ms, floor) if floor is not None else at_ms


def carry_into(item: Mapping[str, Any], state: Mapping[str, Any], image: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The attributes of ``state`` to put back into ``item`` (as read), only those it lacks: into an
    item that still needs the upgrade, or into a current item that no application wrote since this
    record's new ``image`` (every attribute the migration does not own is as the image has it). A
    current item the new application wrote meant its absences; but one the live path upgraded from
    a record handled before this one (the batch split between them) did not: its absences are this
    legacy write's, which cannot express them (found by the several-renames state machine)."""
    if not needs_upgrade(item) and not (image is not None and _only_the_migration_wrote_since(item, image)):
        return {}
    return {name: value for name, value in state.items() if name not in item}


def _only_the_migration_wrote_since(item: Mapping[str, Any], image: Mapping[str, Any]) -> bool:
    owned = active_schema().owned
    names = (set(item) | set(image)) - owned
    return needs_upgrade(image) and all(name in item and name in image and same_typed(item[name], image[name])
                                        for name in names)


def written_names(changes: Sequence[ImageChange]) -> frozenset[str]:
    """Of each rename pair, the names the last record that changed either of them changed
    (a value set anew; a name a record dropped was not written): ``Context.written``."""
    written: set[str] = set()
    schema = active_schema()
    for rename in schema.renames:
        for change in reversed(changes):
            changed = written_between(change.old or {}, change.new or {}, schema) & {rename.old, rename.new}
            if changed:
                written |= changed
                break
    return frozenset(written)


def moved_pairs(item: Mapping[str, Any], image: Mapping[str, Any]) -> frozenset[str]:
    """The names of the rename pairs whose values in ``item`` (as read now) differ from the
    record's new ``image``: a later write changed them, and that write's own record (or, for a
    write of the live path or the backfill, the write itself) settles them."""
    moved: set[str] = set()
    for rename in active_schema().renames:
        names = (rename.old, rename.new)
        if any((name in item) != (name in image) or (name in item and not same_typed(item[name], image[name]))
               for name in names):
            moved.update(names)
    return frozenset(moved)


def pair_knowledge(item: Mapping[str, Any], image: Mapping[str, Any], written: frozenset[str]) -> PairKnowledge:
    """What a record (new ``image``; ``written``: the names its batch wrote, ``written_names``)
    says of each rename pair of ``item`` as read: the sides it wrote of the pairs still as the
    record left them; every pair that moved since is deferred to the write that moved it."""
    moved = moved_pairs(item, image)
    return PairKnowledge(written=written - moved, deferred=moved)
