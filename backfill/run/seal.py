"""``RUN_ID.seal.json``: the SHA-256 of every ledger part and of the checkpoint, as the run wrote them.

Migrate rewrites the seal each time it saves its checkpoint (before the checkpoint itself, so a
crash between the two leaves a seal that names both the previous and the new checkpoint):
- the checkpoint: the SHA-256 of the new file and of the one it replaces;
- the ledger: local, the length and SHA-256 of the file so far; on S3, per attempt, how many
  parts it wrote and a chain of their SHA-256s (one entry per attempt, whatever the number of
  parts: the seal is rewritten at every save).
Restore checks the seal before it reads a ledger line, and resume before it reads the checkpoint:
a sealed part changed or missing is refused (``SealError``, exit 2); so is a part or ledger tail
the seal does not list, unless the (sealed) checkpoint says the run did not complete: an attempt
killed between two saves leaves such a tail, and the least-authority check of every ledger line
(``backfill.run.ledger``) still holds for it.

What it protects against: a file or part of the store changed, added or removed by someone (or
something) that did not also rewrite the seal. What it does not: someone who can rewrite every
file of the store can write a matching seal; against that, keep the store where only the run's
own role writes, with S3 versioning or Object Lock (docs/data-protection.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from backfill.errors import BadInput
from backfill.run.names import CHECKPOINT_SUFFIX, LEDGER_SUFFIX, SEAL_SUFFIX
from backfill.run.store import RunStore, StoreError
from backfill.run.store.s3 import attempt_of, chained

FORMAT = "dynamo-evolve-seal"


class AppendLogState(Protocol):
    def seal_state(self) -> dict[str, Any]: ...


class SealError(BadInput):
    """A run's files are not what its seal says: names the run, the file or part, and how."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_seal(store: RunStore, run_id: str, *, checkpoint: tuple[str, ...], ledger: dict[str, Any] | None) -> None:
    """``checkpoint``: the SHA-256s a valid checkpoint may have (the new one, the one it replaces)."""
    payload = {"format": FORMAT, "run_id": run_id, "checkpoint": list(checkpoint), "ledger": ledger}
    store.write_bytes(run_id + SEAL_SUFFIX, json.dumps(payload, indent=2, sort_keys=True).encode())


@dataclass(frozen=True)
class SealCheck:
    sealed: bool  # False: a run from before sealing (its manifest does not say "sealed")
    unsealed_tail: str = ""  # what of an interrupted attempt's ledger the seal does not cover


def read_seal(store: RunStore, run_id: str, *, required: bool) -> dict[str, Any] | None:
    name = run_id + SEAL_SUFFIX
    try:
        if not store.exists(name):
            if required:
                raise SealError(f"run {run_id!r}: its seal {store.uri(name)} is missing (its manifest says the run "
                                "was sealed): the run store was changed; refused before any write")
            return None
        seal = json.loads(store.read_bytes(name))
    except (OSError, ValueError, StoreError) as error:
        raise SealError(f"run {run_id!r}: its seal {store.uri(name)} cannot be read: {error}") from error
    if not isinstance(seal, dict) or seal.get("format") != FORMAT or seal.get("run_id") != run_id:
        raise SealError(f"run {run_id!r}: {store.uri(name)} is not this run's seal")
    return seal


def check_checkpoint(store: RunStore, run_id: str, seal: dict[str, Any]) -> bytes | None:
    """The checkpoint's bytes, once they match the seal (None when the run saved none)."""
    name = run_id + CHECKPOINT_SUFFIX
    allowed = [str(s) for s in seal.get("checkpoint") or []]
    try:
        data = store.read_bytes(name) if store.exists(name) else None
    except (OSError, StoreError) as error:
        raise SealError(f"run {run_id!r}: checkpoint {store.uri(name)} cannot be read: {error}") from error
    if data is None:
        if allowed:
            raise SealError(f"run {run_id!r}: checkpoint {store.uri(name)} is missing, but the run's seal lists it; "
                            "refused before any write")
        return None
    if sha256(data) not in allowed:
        raise SealError(f"run {run_id!r}: checkpoint {store.uri(name)} was changed after the run sealed it "
                        "(its SHA-256 is not the seal's); refused before any write")
    return data


def check_run(store: RunStore, run_id: str, *, sealed: bool) -> SealCheck:
    """Check the checkpoint and every ledger part of backup ``run_id`` against its seal."""
    seal = read_seal(store, run_id, required=sealed)
    if seal is None:
        return SealCheck(False)
    checkpoint = check_checkpoint(store, run_id, seal)
    completed = bool(json.loads(checkpoint).get("completed")) if checkpoint is not None else False
    tail = _check_ledger(store, run_id, seal.get("ledger"))
    if tail and completed:
        raise SealError(f"run {run_id!r}: {tail}, though the run completed: written by someone else; "
                        "refused before any write")
    return SealCheck(True, tail)


def _check_ledger(store: RunStore, run_id: str, sealed: dict[str, Any] | None) -> str:
    """What of the ledger the seal does not cover ("" when nothing); raises SealError on a change.

    ``sealed`` (``seal_state`` of the run's log): a local ledger is one file that later lines
    extend, ``{"parts": {name: {"bytes": N, "sha256": S}}}``: its first N bytes are sealed. An S3
    ledger is parts grouped by attempt, ``{"attempts": {NAME/ATTEMPT: {"parts": N, "sha256": C}}}``:
    the attempt's first N parts (by sequence) chain to C (``backfill.run.store.s3.chained``)."""
    sealed = sealed or {}
    try:
        present = store.log_parts(run_id + LEDGER_SUFFIX)
        if "attempts" in sealed:
            return _check_attempts(store, run_id, dict(sealed["attempts"]), present)
        tails = []
        listed: dict[str, Any] = dict(sealed.get("parts") or {})
        for part, entry in sorted(listed.items()):
            if part not in present:
                raise SealError(f"run {run_id!r}: ledger {store.uri(part)} is missing (the run's seal lists it); "
                                "refused before any write")
            _length, digest, extra = _prefix_sha256(store, part, int(entry["bytes"]))
            if digest != entry["sha256"]:
                raise SealError(f"run {run_id!r}: ledger {store.uri(part)} was changed after the run sealed it "
                                "(its SHA-256 is not the seal's); refused before any write")
            if extra:
                tails.append(f"ledger {store.uri(part)} has {extra} bytes after the last seal")
        tails += [f"ledger part {store.uri(part)} is not in the seal" for part in present if part not in listed]
        return "; ".join(tails)
    except (OSError, StoreError, KeyError, TypeError, ValueError) as error:
        if isinstance(error, SealError):
            raise
        raise SealError(f"run {run_id!r}: its ledger cannot be checked against its seal: {error}") from error


def _check_attempts(store: RunStore, run_id: str, attempts: dict[str, Any], present: list[str]) -> str:
    by_attempt: dict[str, list[str]] = {}
    for part in sorted(present):
        by_attempt.setdefault(attempt_of(part), []).append(part)
    tails = []
    for attempt, entry in sorted(attempts.items()):
        parts, count = by_attempt.get(attempt, []), int(entry["parts"])
        if len(parts) < count:
            raise SealError(f"run {run_id!r}: ledger parts of {store.uri(attempt)} are missing ({len(parts)} of the "
                            f"{count} its seal lists); refused before any write")
        chain = ""
        for part in parts[:count]:
            chain = chained(chain, sha256(store.read_bytes(part)))
        if chain != entry["sha256"]:
            raise SealError(f"run {run_id!r}: a ledger part of {store.uri(attempt)}-* was changed after the run "
                            "sealed it (or replaced, or removed: its parts' SHA-256s are not the seal's); refused "
                            "before any write")
        tails += [f"ledger part {store.uri(part)} is not in the seal" for part in parts[count:]]
    tails += [f"ledger part {store.uri(part)} is not in the seal"
              for attempt, parts in sorted(by_attempt.items()) if attempt not in attempts for part in parts]
    return "; ".join(tails)


def _prefix_sha256(store: RunStore, name: str, length: int) -> tuple[int, str, int]:
    """(bytes read of the first ``length``, their SHA-256, bytes after them), streamed."""
    digest, read, extra = hashlib.sha256(), 0, 0
    with store.open_read(name) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            take = block[: max(0, length - read)]
            digest.update(take)
            read += len(take)
            extra += len(block) - len(take)
    return read, digest.hexdigest() if read == length else "(shorter than sealed)", extra
