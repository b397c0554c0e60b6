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


def test_a_new_rate_applies_to_the_next_acquisitions():
    # given 10/s with a burst of 1, one token taken
    clock = FakeClock()
    limiter = RateLimiter(10, burst=1, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    # when the rate becomes 2/s (backfill control RUN rate)
    limiter.set_rate(2)
    for _ in range(3):
        limiter.acquire()
    # then each next token waited half a second
    assert round(clock.now, 6) == 1.5


def test_a_long_wait_is_cut_in_slices_so_a_rate_change_is_seen():
    # given a very slow rate: the next token is 10 s away
    clock = FakeClock()
    limiter = RateLimiter(0.1, burst=1, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    # then the waiting writer slept in slices of at most half a second
    assert max(clock.slept) <= 0.5 and round(clock.now, 6) == 10.0


def test_a_writer_waiting_when_the_rate_becomes_unlimited_goes_on():
    clock = FakeClock()
    limiter = RateLimiter(0.1, burst=1, clock=clock, sleep=clock.sleep)
    limiter.acquire()

    def sleep_then_unlimited(seconds):
        clock.sleep(seconds)
        limiter.set_rate(0)

    limiter._sleep = sleep_then_unlimited
    limiter.acquire()
    assert clock.now == 0.5
