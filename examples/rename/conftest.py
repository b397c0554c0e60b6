"""The rename example's phases: its integration fixtures come from examples/conftest.py."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from chalicelib.schema import Schema, use_schema


@pytest.fixture
def phase() -> Iterator[Callable[[Schema], None]]:
    """``phase(schema)`` makes a phase's declaration the active one for the rest of the test (the
    recipe's "activate and deploy"); a later call replaces it."""
    with ExitStack() as stack:
        yield lambda schema: stack.enter_context(use_schema(schema)) and None
