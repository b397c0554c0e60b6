"""The token bucket limits acquisitions per second (checked on a fake clock, never on the wall)."""

from backfill.migrate.ratelimit import RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_acquisitions_are_spaced_at_the_rate_after_the_burst():
    # given 10/s with a burst of 1
    clock = FakeClock()
    limiter = RateLimiter(10, burst=1, clock=clock, sleep=clock.sleep)
    # when 5 tokens are taken
    for _ in range(5):
        limiter.acquire()
    # then the first is free and each next one waited a tenth of a second
    assert round(clock.now, 6) == 0.4


def test_burst_allows_that_many_at_once_and_idle_time_does_not_overfill():
    clock = FakeClock()
    limiter = RateLimiter(100, burst=5, clock=clock, sleep=clock.sleep)
    clock.now = 60.0  # a long idle minute
    for _ in range(5):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert round(sum(clock.slept), 6) == 0.01


def test_zero_rate_is_unlimited():
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        limiter.acquire()
    assert limiter.unlimited and clock.slept == []
