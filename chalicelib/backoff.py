"""Waiting between attempts after a lost race (a failed write guard)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff between attempts after a failed guard.

    The first retry already has the fresh item (returned by the failed write), so the wait only
    spreads writers contending for one hot item apart."""

    base_s: float = 0.005
    cap_s: float = 0.2
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random  # in [0, 1)

    def delay(self, failures: int) -> float:
        return self.jitter() * min(self.cap_s, self.base_s * 2 ** (failures - 1))

    def wait(self, failures: int) -> None:
        self.sleep(self.delay(failures))
