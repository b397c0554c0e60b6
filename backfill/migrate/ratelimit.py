"""A thread-safe token bucket: at most ``rate`` acquisitions per second on average."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9
_LONGEST_WAIT_S = 0.5


class RateLimiter:
    """``acquire()`` blocks until a token is free. ``rate`` 0 (or less) means unlimited.

    The bucket holds at most ``burst`` tokens (default: a tenth of a second's worth, at least 1),
    so an idle period does not let a flood of writes through at once.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = float(rate)
        self._burst = burst
        self.capacity = float(burst) if burst is not None else max(1.0, self.rate / 10)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        """Change the rate while writers wait (``backfill control RUN rate N``): the bucket keeps
        what it holds, up to the new burst size."""
        with self._lock:
            self.rate = float(rate)
            self.capacity = float(self._burst) if self._burst is not None else max(1.0, self.rate / 10)
            self._tokens = min(self._tokens, self.capacity)

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def acquire(self) -> None:
        if self.unlimited:
            return
        while True:
            with self._lock:
                if self.rate <= 0:  # made unlimited while this writer waited
                    return
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1 - _EPSILON:  # float dust must not make a waiter spin
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(min(wait, _LONGEST_WAIT_S))  # a rate changed meanwhile takes effect soon
