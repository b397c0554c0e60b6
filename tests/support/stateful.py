"""Hypothesis settings for state machines that drive an endpoint over HTTP."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings


def over_http(*, examples: int, steps: int) -> settings:
    """Bounded runs without shrinking: shrinking replays many sequences over HTTP, so a failing
    sequence (at most ``steps`` long) is printed as it is. No deadline: a step's time is the
    endpoint's, and the health checks would judge the endpoint, not the test."""
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=list(HealthCheck))
