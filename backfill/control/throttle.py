"""Throttle by the table, not by a guess: the write capacity a worker may consume per second,
spent by what DynamoDB reports each write consumed (``ReturnConsumedCapacity``); a back-off when
DynamoDB throttles; and a hold while the live path lags behind its streams (the deployed stream
functions' ``IteratorAge`` in CloudWatch), gh-ost's max-lag for DynamoDB.

Writers call ``CapacityGovernor.wait()`` before each write (after the item rate limit); the
``CapacityMeter`` hands every write's consumed units to ``spend`` and every throttled attempt to
``throttled``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_dynamodb.type_defs import TableDescriptionTypeDef

log = logging.getLogger(__name__)

_LONGEST_WAIT_S = 0.5  # a writer re-checks at least this often (pause, stop, a new limit)
BACKOFF_FIRST_S = 0.05
BACKOFF_MAX_S = 2.0
BACKOFF_FORGET_S = 5.0  # throttles this far apart start the back-off over


class CapacityGovernor:
    """At most ``units_per_s`` write capacity units per second (0 = no limit), measured: each
    write spends what it consumed, so large items cost more than small ones. The bucket may go
    into debt by one write; writers wait until it is out of debt."""

    def __init__(self, units_per_s: float = 0.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self.units_per_s = float(units_per_s)
        self._tokens = self._burst()
        self._updated = clock()
        self._hold_until = 0.0  # back-off after throttling
        self._throttles = 0
        self._last_throttle = -BACKOFF_FORGET_S
        self.lagging = False  # set by LagWatch: the live path is behind, writes wait
        self.held = 0  # waits because the units were spent: the limit, not the writers, set the pace

    def _burst(self) -> float:
        return max(1.0, self.units_per_s / 10)

    def set_rate(self, units_per_s: float) -> None:
        with self._lock:
            self.units_per_s = float(units_per_s)
            self._tokens = min(self._tokens, self._burst())

    def wait(self, stopping: Callable[[], bool] = lambda: False) -> None:
        """Before a write: until the back-off is over, the live path keeps up and the bucket is
        out of debt (returns early when ``stopping()``)."""
        while not stopping():
            with self._lock:
                now = self._clock()
                pause = self._hold_until - now
                if pause <= 0 and not self.lagging:
                    if self.units_per_s <= 0:
                        return
                    self._refill(now)
                    if self._tokens > 0:
                        return
                    self.held += 1
                    pause = -self._tokens / self.units_per_s
                elif self.lagging:
                    pause = _LONGEST_WAIT_S
            self._sleep(min(max(pause, 0.001), _LONGEST_WAIT_S))

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst(), self._tokens + (now - self._updated) * self.units_per_s)
        self._updated = now

    def spend(self, units: float) -> None:
        """A write consumed ``units`` (DynamoDB's answer)."""
        with self._lock:
            if self.units_per_s > 0:
                self._refill(self._clock())
                self._tokens -= units

    def throttled(self) -> None:
        """DynamoDB throttled an attempt (botocore retries it): every writer holds back, twice as
        long on each throttle in a row, up to ``BACKOFF_MAX_S``."""
        with self._lock:
            now = self._clock()
            self._throttles = self._throttles + 1 if now - self._last_throttle < BACKOFF_FORGET_S else 1
            self._last_throttle = now
            hold = min(BACKOFF_FIRST_S * 2 ** (self._throttles - 1), BACKOFF_MAX_S)
            self._hold_until = max(self._hold_until, now + hold)


def capacity_limit(spec: str, described_table: TableDescriptionTypeDef) -> float:
    """``--max-capacity``: ``N`` write units per second, or ``P%`` of the table's write
    throughput (provisioned WCU, or an on-demand table's MaxWriteRequestUnits). Raises ValueError."""
    text = spec.strip()
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        raise ValueError(f"--max-capacity {spec!r} is not N (write units per second) or P% (of the table's "
                         "write throughput)") from None
    if not value > 0 or value != value or value == float("inf") or (percent and value > 100):
        raise ValueError(f"--max-capacity {spec!r} must be more than 0" + (" and at most 100%" if percent else ""))
    if not percent:
        return value
    name = described_table.get("TableName", "the table")
    provisioned = int((described_table.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits") or 0)
    on_demand = int((described_table.get("OnDemandThroughput") or {}).get("MaxWriteRequestUnits") or 0)
    mode = (described_table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    throughput = on_demand if mode == "PAY_PER_REQUEST" else provisioned
    if throughput <= 0:
        raise ValueError(f"--max-capacity {spec}: table {name!r} has no write throughput to take a share of "
                         f"({'on-demand without MaxWriteRequestUnits' if mode == 'PAY_PER_REQUEST' else 'no WCU'}); "
                         "give write units per second instead")
    return throughput * value / 100


class LagWatch:
    """Every ``every_s``, the highest ``IteratorAge`` (ms) of ``functions`` in CloudWatch over the
    last five minutes; writes wait while it is above ``max_age_s`` (``governor.lagging``)."""

    def __init__(self, cloudwatch: CloudWatchClient, functions: Sequence[str], max_age_s: float, governor: CapacityGovernor,
                 *, every_s: float = 30.0) -> None:
        self.cloudwatch, self.functions, self.max_age_s = cloudwatch, list(functions), max_age_s
        self.governor, self.every_s = governor, every_s
        self.age_s: float | None = None
        self.error = ""
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LagWatch:
        self.check()
        self._thread = threading.Thread(target=self._loop, name="lag-watch", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.governor.lagging = False

    def _loop(self) -> None:
        while not self._quit.wait(self.every_s):
            self.check()

    def check(self) -> None:
        try:
            ages = [self._latest_ms(function) for function in self.functions]
        except Exception as error:  # noqa: BLE001 - CloudWatch down must not stop the run: keep the last verdict
            self.error = f"{type(error).__name__}: {error}"
            log.warning("cannot read IteratorAge from CloudWatch: %s", self.error)
            return
        self.error = ""
        known = [age for age in ages if age is not None]
        self.age_s = max(known) / 1000 if known else None
        lagging = self.age_s is not None and self.age_s > self.max_age_s
        if lagging != self.governor.lagging:
            log.warning("live path %s: IteratorAge %.0f s (limit %g s)", "lags, writes wait" if lagging else
                        "caught up, writes go on", self.age_s or 0, self.max_age_s)
        self.governor.lagging = lagging

    def _latest_ms(self, function: str) -> float | None:
        now = datetime.now(timezone.utc)
        answer = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="IteratorAge", Dimensions=[{"Name": "FunctionName", "Value": function}],
            StartTime=now - timedelta(minutes=5), EndTime=now, Period=60, Statistics=["Maximum"])
        points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
        return float(points[-1]["Maximum"]) if points else None
