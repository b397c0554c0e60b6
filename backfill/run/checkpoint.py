"""Resume support: per segment, how far (in backup order) the run has finished, saved atomically.

Writers finish items out of order, so each segment saves its contiguous prefix (``done``
items in backup order) and, beyond it, the indexes of every
other finished item (``beyond``), with the tally of all their outcomes. A resumed run skips
exactly those items: a writer that fell behind never makes the run redo the work the others
finished. An item finished after the last save is redone, which is harmless (it is then
already current).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backfill.run.backup import Backup, json_bytes
from backfill.run.names import CHECKPOINT_SUFFIX as CHECKPOINT_SUFFIX
from backfill.run.seal import AppendLogState, sha256, write_seal
from backfill.run.store import RunStore, StoreError
from backfill.run.tally import Tally, merged

FORMAT = "dynamo-evolve-migrate-checkpoint"


class CheckpointError(Exception):
    """A checkpoint file is unreadable or belongs to another run."""


@dataclass
class SegmentProgress:
    done: int = 0
    tally: Tally = field(default_factory=Tally)
    beyond: set[int] = field(default_factory=set)  # finished indexes past the contiguous prefix

    def finish(self, index: int, record: Callable[[Tally], None]) -> None:
        """Item number ``index`` (0-based, backup order) of this segment is finished;
        ``record(tally)`` adds its outcome."""
        if self.is_finished(index):
            raise ValueError(f"item {index} of the segment is already finished")
        record(self.tally)
        self.beyond.add(index)
        while self.done in self.beyond:
            self.beyond.discard(self.done)
            self.done += 1

    def is_finished(self, index: int) -> bool:
        return index < self.done or index in self.beyond

    @property
    def finished(self) -> int:
        return self.done + len(self.beyond)

    def to_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "beyond": sorted(self.beyond),
            "tally": self.tally.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentProgress:
        beyond = {int(index) for index in data.get("beyond", [])}
        return cls(int(data["done"]), Tally.from_dict(data["tally"]), beyond)


@dataclass
class Checkpoint:
    run_id: str
    options: dict[str, Any]
    segments: dict[int, SegmentProgress] = field(default_factory=dict)
    completed: bool = False
    saved_at: float = 0.0  # epoch seconds of the last save (how fresh a running worker is)
    saved_sha256: str | None = field(default=None, compare=False)  # of the file as last saved or read


    def segment(self, number: int) -> SegmentProgress:
        return self.segments.setdefault(number, SegmentProgress())

    def is_finished(self, number: int, index: int) -> bool:
        progress = self.segments.get(number)
        return progress is not None and progress.is_finished(index)

    @property
    def finished_items(self) -> int:
        return sum(p.finished for p in self.segments.values())

    def tally(self) -> Tally:
        return merged([self.segments[s].tally for s in sorted(self.segments)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "run_id": self.run_id,
            "options": self.options,
            "completed": self.completed,
            "saved_at": self.saved_at,
            "segments": {str(s): p.to_dict() for s, p in sorted(self.segments.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        if data.get("format") != FORMAT:
            raise CheckpointError(f"not a migrate checkpoint (format {data.get('format')!r})")
        return cls(
            run_id=data["run_id"],
            options=dict(data["options"]),
            segments={int(s): SegmentProgress.from_dict(p) for s, p in data["segments"].items()},
            completed=bool(data.get("completed", False)),
            saved_at=float(data.get("saved_at", 0.0)),
        )

    def save(self, store: RunStore, name: str, *, ledger: AppendLogState | None = None) -> None:
        """Seal, then save: the run's seal (``backfill.run.seal``) names this checkpoint and the
        one it replaces, and every part of ``ledger`` (the run's ledger log, once it has one)."""
        self.saved_at = time.time()
        data = json_bytes(self.to_dict())
        digest = sha256(data)
        previous = (self.saved_sha256,) if self.saved_sha256 else ()
        write_seal(store, self.run_id, checkpoint=(digest, *previous),
                   ledger=ledger.seal_state() if ledger is not None else None)
        store.write_bytes(name, data)
        self.saved_sha256 = digest


def load_checkpoint(store: RunStore, name: str, run_id: str) -> Checkpoint | None:
    """The checkpoint ``name`` in ``store``, or None when the run died before saving one."""
    where = store.uri(name)
    try:
        if not store.exists(name):
            return None
        data = store.read_bytes(name)
        checkpoint = Checkpoint.from_dict(json.loads(data))
        checkpoint.saved_sha256 = sha256(data)
    except (OSError, ValueError, KeyError, TypeError, StoreError) as error:
        raise CheckpointError(f"checkpoint {where} is unreadable: {error}") from error
    if checkpoint.run_id != run_id:
        raise CheckpointError(f"checkpoint {where} belongs to run {checkpoint.run_id}, not {run_id}")
    return checkpoint


def check_against(checkpoint: Checkpoint, backup: Backup, where: str) -> None:
    """Refuse (``CheckpointError``) a checkpoint that contradicts its backup: progress in a segment
    the backup does not hold, or more items finished than the segment has. Resuming from it would
    skip items as done that were never migrated."""
    for number, progress in sorted(checkpoint.segments.items()):
        if number not in backup.segments:
            raise CheckpointError(f"checkpoint {where} is damaged: it has progress in segment {number}, which backup "
                                  f"{backup.run_id} does not hold (segments {backup.segments})")
        items = backup.items_of(number)
        last = max([progress.done - 1, *progress.beyond], default=-1)
        if progress.done < 0 or last >= items or progress.finished > items:
            raise CheckpointError(f"checkpoint {where} is damaged: segment {number} has {progress.finished} items "
                                  f"finished (up to item {last}), but backup {backup.run_id} holds {items} of it")
