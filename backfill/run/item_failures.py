"""Per-item failures, told once: the first few are logged one line each, the rest only counted
by reason, so a run where thousands of writes fail (an endpoint in trouble) prints a short
summary instead of burying the next-step hint under thousands of log lines. Every failure is
still in the run's report, with its key and its reason."""

from __future__ import annotations

import logging
import threading
from collections import Counter

from botocore.exceptions import BotoCoreError, ClientError

from backfill.errors import explain

LOGGED = 10  # failures logged one by one before the rest are only counted


def describe(error: BaseException) -> str:
    """One line for ``error``: for the AWS side the service's code and message (an HTML error
    page reduced to its status and title); otherwise the exception's type and text."""
    if isinstance(error, (ClientError, BotoCoreError)):
        return explain(error).message
    return " ".join(f"{type(error).__name__}: {error}".split())


class ItemFailures:
    """Thread-safe: the write pools of migrate and restore report into one instance."""

    def __init__(self, log: logging.Logger, what: str, *, logged: int = LOGGED) -> None:
        self._log = log
        self._what = what  # "item", "restore of item": how a failed thing is named in the log
        self._logged = logged
        self._lock = threading.Lock()
        self.by_reason: Counter[str] = Counter()

    def add(self, key: str, reason: str) -> None:
        with self._lock:
            total = sum(self.by_reason.values())
            self.by_reason[_kind(reason)] += 1
        if total < self._logged:
            self._log.warning("%s %s failed: %s", self._what, key, reason)
        elif total == self._logged:
            self._log.warning("more %s failures are counted, not logged one by one (the report lists each)",
                              self._what)

    def summarise(self) -> None:
        """Log the counts by reason once the run is over, when more failed than were logged."""
        total = sum(self.by_reason.values())
        if total > self._logged:
            counts = ", ".join(f"{reason}: {n}" for reason, n in self.by_reason.most_common())
            self._log.warning("%d %s failures in all, by reason: %s", total, self._what, counts)


def _kind(reason: str) -> str:
    """The class of a reason: its text up to the first colon after the operation ("refused at X
    (UpdateItem): InternalServerError")."""
    head, _, rest = reason.partition("): ")
    code = rest.split(":", 1)[0] if rest else ""
    return f"{head}): {code}" if code else reason
