"""Which schema the running code upgrades to: the current declaration, unless another is
activated, as a value (the worked v3 example's tests do this; so can a staged rollout).

``DYNAMO_EVOLVE_SCHEMA=package.module:NAME`` in the environment activates that schema in a
process (the CLI in a subprocess, a Lambda); ``use_schema(schema)`` does it for a block of code.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from chalicelib.schema.current import CURRENT
from chalicelib.schema.spec import Schema

ENV_VAR = "DYNAMO_EVOLVE_SCHEMA"

_active: list[Schema] = []


@lru_cache(maxsize=4)
def load_schema(reference: str) -> Schema:
    """The schema named ``package.module:NAME``. Raises ValueError naming what is wrong."""
    module_name, _, attribute = reference.partition(":")
    try:
        schema = getattr(importlib.import_module(module_name), attribute or "SCHEMA")
    except (ImportError, AttributeError) as error:
        raise ValueError(f"{ENV_VAR}={reference!r}: {error}") from error
    if not isinstance(schema, Schema):
        raise ValueError(f"{ENV_VAR}={reference!r} is not a Schema")
    return schema


def active_schema() -> Schema:
    if _active:
        return _active[-1]
    reference = os.environ.get(ENV_VAR)
    return load_schema(reference) if reference else CURRENT


@contextmanager
def use_schema(schema: Schema) -> Iterator[Schema]:
    """Make ``schema`` the active one (for every thread) until the block ends."""
    _active.append(schema)
    try:
        yield schema
    finally:
        _active.remove(schema)
