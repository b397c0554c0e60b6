"""``migrate --hook CMD``: commands run on the run's events, gh-ost style, each with a JSON
description of the event on stdin (and ``BACKFILL_HOOK_EVENT`` in its environment).

Events: ``start`` (the writes begin), ``pause`` and ``resume`` (``backfill control``),
``segment_done`` (this worker finished its segment(s)), ``finish`` (every segment of the run is
done: fired by the worker that sees it, so at least once) and ``failure`` (the worker ends with
an error). A hook that exits non-zero, cannot be started or outlives ``--hook-timeout`` (it is
then killed, with its process group) is logged; with ``--hook-fails-run`` it stops the run
instead (a failing ``failure`` hook is only logged: the run has failed already).

A hook gets what docs/control.md lists and nothing more: an environment of ``BASE_ENVIRONMENT``
(what finding a program and writing text need), ``BACKFILL_HOOK_EVENT`` and the variables the
operator names with ``--hook-env NAME`` (AWS credentials only that way); a payload whose quoted
values are ``<value>`` (``chalicelib.redaction``) unless ``--show-values``.
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
from chalicelib.redaction import without_values

log = logging.getLogger(__name__)

EVENTS = ("start", "pause", "resume", "segment_done", "finish", "failure")
DEFAULT_TIMEOUT_S = 30.0
BASE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")


class HookFailed(Refused):
    """A hook failed and ``--hook-fails-run`` says that stops the run (exit code 3)."""


@dataclass
class HookRunner:
    commands: tuple[str, ...] = ()
    fails_run: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    context: dict[str, Any] = field(default_factory=dict)  # run, worker, segments: in every event
    env_names: tuple[str, ...] = ()  # --hook-env: variables passed on by name, beyond BASE_ENVIRONMENT
    show_values: bool = False  # --show-values: reasons in the payload keep the values they quote
    failed: str | None = None  # the failure that stops the run, when it happened on another thread
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fire(self, event: str, **details: Any) -> None:
        """Run every hook for ``event``; raises HookFailed when one fails and that stops the run."""
        if not self.commands:
            return
        payload = {"event": event, **self.context, **details, "host": socket.gethostname(),
                   "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
        text = json.dumps(payload if self.show_values else _redacted(payload), sort_keys=True, default=str)
        environment = hook_environment(event, self.env_names)
        for command in self.commands:
            problem = _run(command, environment, text, self.timeout_s)
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


def hook_environment(event: str, names: tuple[str, ...], environ: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a hook: ``BASE_ENVIRONMENT`` and ``names`` as this process has
    them, and ``BACKFILL_HOOK_EVENT``. Nothing else (no credentials unless named)."""
    environ = dict(os.environ) if environ is None else environ
    passed = {name: environ[name] for name in (*BASE_ENVIRONMENT, *names) if name in environ}
    return {**passed, "BACKFILL_HOOK_EVENT": event}


def _redacted(value: Any) -> Any:
    """``value`` with every quoted literal in its strings as <value> (item values in reasons)."""
    if isinstance(value, str):
        return without_values(value)
    if isinstance(value, dict):
        return {key: _redacted(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(inner) for inner in value]
    return value


def _run(command: str, environment: dict[str, str], payload: str, timeout_s: float) -> str | None:
    """None when the hook succeeded, else what went wrong (one line)."""
    try:
        argv = shlex.split(command)
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=environment, start_new_session=True, text=True)
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
