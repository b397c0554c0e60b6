"""How a run's files are named in its run store: ``STEM`` + one of the suffixes below.

``STEM`` is a backup's run id (``nightly``, ``nightly-seg0of2``) or, for the run-wide control
record, the run's name. Run ids may contain ``.``, so a name is never matched by a prefix
(``nightly.`` is also the start of ``nightly.v2``'s files): ``stem_of`` splits a name at the one
suffix it ends with and the stem is compared whole. No suffix here ends another one, so every
name splits one way only (``test_names`` checks it).
"""

from __future__ import annotations

import re

DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
LEDGER_SUFFIX = ".ledger.jsonl"
CHECKPOINT_SUFFIX = ".checkpoint.json"
REPORT_SUFFIX = ".report.json"
RESTORE_REPORT_SUFFIX = ".restore-report.json"
PLAN_SUFFIX = ".plan.json"
LOG_SUFFIX = ".log"
WORKER_SUFFIX = ".worker.json"
CONTROL_SUFFIX = ".control.json"
SEAL_SUFFIX = ".seal.json"
RESTORE_PLAN_SUFFIX = ".restore-plan.json"  # restore --processes: a child's plan (its --json output)
RESTORE_RESULT_SUFFIX = ".restore-result.json"  # and its result

SEGMENT_NAME = re.compile(r"-seg(?P<segments>[0-9_]+)of(?P<total>[0-9]+)$")  # a split run's worker: RUN-segKofN

RUN_FILE_SUFFIXES = (DATA_SUFFIX, MANIFEST_SUFFIX, LEDGER_SUFFIX, CHECKPOINT_SUFFIX, REPORT_SUFFIX,
                     RESTORE_REPORT_SUFFIX, PLAN_SUFFIX, LOG_SUFFIX, WORKER_SUFFIX, CONTROL_SUFFIX, SEAL_SUFFIX,
                     RESTORE_PLAN_SUFFIX, RESTORE_RESULT_SUFFIX)


def stem_of(name: str) -> str | None:
    """The run id or run name a file of the store belongs to, or None for a name that is not a
    run's file (a temporary file, something else left in the directory)."""
    for suffix in RUN_FILE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def is_worker_of(stem: str, run: str) -> bool:
    """Is ``stem`` the run id of one of ``run``'s workers (``run`` itself, or ``run-segKofN``)?
    Compared whole: ``nightly-segment`` is not a worker of ``nightly``."""
    if stem == run:
        return True
    match = SEGMENT_NAME.search(stem)
    return match is not None and stem[: match.start()] == run
