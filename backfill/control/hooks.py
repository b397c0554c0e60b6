"""``migrate --hook CMD``: commands run on the run's events, gh-ost style, each with a JSON
description of the event on stdin (and ``BACKFILL_HOOK_EVENT`` in its environment).

Events: ``start`` (the writes begin), ``pause`` and ``resume`` (``backfill control``),
``segment_done`` (this worker finished its segment(s)), ``finish`` (every segment of the run is
done: fired by the worker that sees it, so at least once) and ``failure`` (the worker ends with
an error). A hook that exits non-zero, cannot be started or outlives ``--hook-timeout`` (it is
then killed, with its process group) is logged; with ``--hook-fails-run`` it stops the run
instead (a failing ``failure`` hook is only logged: the run has failed already).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from backfill.errors import Refused

log = logging.getLogger(__name__)

EVENTS = ("start", "pause", "resume", "segment_done", "finish", "failure")
DEFAULT_TIMEOUT_S = 30.0


class HookFailed(Refused):
    """A hook failed and ``--hook-fails-run`` says that stops the run (exit code 3)."""


@dataclass
class HookRunner:
    commands: tuple[str, ...] = ()
    fails_run: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    context: dict[str, Any] = field(default_factory=dict)  # run, worker, segments: in every event
    failed: str | None = None  # the failure that stops the run, when it happened on another thread
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fire(self, event: str, **details: Any) -> None:
        """Run every hook for ``event``; raises HookFailed when one fails and that stops the run."""
        if not self.commands:
            return
        payload = {"event": event, **self.context, **details, "host": socket.gethostname(),
                   "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
        text = json.dumps(payload, sort_keys=True, default=str)
        for command in self.commands:
            problem = _run(command, event, text, self.timeout_s)
            if problem is None:
                continue
            message = f"hook {command!r} on {event}: {problem}"
            if self.fails_run and event != "failure":
                with self._lock:
                    self.failed = self.failed or message
                raise HookFailed(message, hint="fix the hook, or drop --hook-fails-run to only log its failures")
            log.warning("%s (logged; --hook-fails-run would stop the run)", message)

    def fire_quietly(self, event: str, **details: Any) -> bool:
        """``fire`` from a thread that cannot end the run itself: False when the run must stop
        (``failed`` says why)."""
        try:
            self.fire(event, **details)
        except HookFailed:
            return False
        return True


def _run(command: str, event: str, payload: str, timeout_s: float) -> str | None:
    """None when the hook succeeded, else what went wrong (one line)."""
    try:
        argv = shlex.split(command)
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env={**os.environ, "BACKFILL_HOOK_EVENT": event}, start_new_session=True, text=True)
    except (OSError, ValueError) as error:
        return f"cannot be started: {getattr(error, 'strerror', None) or error}"
    try:
        _out, errors = process.communicate(payload, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the hook and whatever it started
        process.communicate()
        return f"timed out after {timeout_s:g} s (killed)"
    if process.returncode != 0:
        last = (errors or "").strip().splitlines()[-1:] or [""]
        return f"exit code {process.returncode}" + (f": {last[0]}" if last[0] else "")
    return None
