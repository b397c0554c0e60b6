"""The capacity governor on a fake clock (never the wall): measured units per second, debt,
back-off on throttling, the live path's lag; and --max-capacity's two spellings."""

import pytest

from backfill.control.throttle import BACKOFF_MAX_S, CapacityGovernor, capacity_limit


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def governor(units_per_s):
    clock = FakeClock()
    return CapacityGovernor(units_per_s, clock=clock, sleep=clock.sleep), clock


def test_writes_are_held_to_the_units_they_consume():
    # given 10 units/s (burst 1) and writes that each consume 2.5 units
    gov, clock = governor(10)
    for _ in range(9):
        gov.wait()
        gov.spend(2.5)
    # then 9 writes (22.5 units) took the time to refill all but the burst (1) and the last write's
    # debt (2.5): 19 units at 10/s
    assert clock.now == pytest.approx(1.9, abs=0.01)


def test_no_limit_never_waits():
    gov, clock = governor(0)
    for _ in range(100):
        gov.wait()
        gov.spend(5)
    assert clock.now == 0


def test_throttling_holds_every_writer_longer_each_time_in_a_row_up_to_a_cap():
    gov, clock = governor(0)
    holds = []
    for _ in range(8):
        gov.throttled()
        started = clock.now
        gov.wait()
        holds.append(round(clock.now - started, 3))
    assert holds[:4] == [0.05, 0.1, 0.2, 0.4] and max(holds) == BACKOFF_MAX_S


def test_a_lagging_live_path_holds_writes_until_it_catches_up_or_the_run_stops():
    gov, clock = governor(0)
    gov.lagging = True
    gov.wait(stopping=lambda: clock.now >= 3)
    assert clock.now >= 3  # held all along, released by the stop


@pytest.mark.parametrize(("spec", "table", "units"), [
    ("25", {}, 25.0),
    ("50%", {"ProvisionedThroughput": {"WriteCapacityUnits": 40}}, 20.0),
    ("10%", {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}, "OnDemandThroughput": {"MaxWriteRequestUnits": 500},
             "ProvisionedThroughput": {"WriteCapacityUnits": 0}}, 50.0),
])
def test_max_capacity_in_units_or_a_share_of_the_tables_throughput(spec, table, units):
    assert capacity_limit(spec, table) == units


@pytest.mark.parametrize(("spec", "table", "says"), [
    ("fast", {}, "is not N"),
    ("0", {}, "more than 0"),
    ("150%", {"ProvisionedThroughput": {"WriteCapacityUnits": 5}}, "at most 100%"),
    ("50%", {"TableName": "events", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}, "on-demand without"),
])
def test_a_max_capacity_that_cannot_be_met_is_refused_naming_why(spec, table, says):
    with pytest.raises(ValueError, match=says):
        capacity_limit(spec, table)
