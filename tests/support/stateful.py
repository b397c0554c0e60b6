"""Hypothesis settings for state machines that drive an endpoint over HTTP."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

# Set (to anything) to explore new sequences; by default every run replays the same ones.
EXPLORE_ENV = "DYNAMO_EVOLVE_EXPLORE"


def over_http(*, examples: int, steps: int) -> settings:
    """Bounded runs without shrinking: shrinking replays many sequences over HTTP, so a failing
    sequence (at most ``steps`` long) is printed as it is. No deadline: a step's time is the
    endpoint's, and the health checks would judge the endpoint, not the test.

    Derandomized unless ``DYNAMO_EVOLVE_EXPLORE`` is set: CI replays the same sequences, so a
    red run is a regression, not a new draw; a known gap found by exploring is kept as its own
    test (examples/rename/test_several_renames.py) and exploring goes on on demand."""
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=list(HealthCheck), derandomize=EXPLORE_ENV not in os.environ)
