"""Which declaration the running code migrates to, loaded the same way everywhere.

The events declaration (``chalicelib.schema.current:CURRENT``) unless another is named:
``DYNAMO_EVOLVE_SCHEMA=package.module:NAME`` in the environment (the CLI's ``--schema`` sets it
for itself and its child processes; the Chalice app reads it when packaged and in the Lambda),
or ``use_schema(schema)`` for a block of code (tests, a staged rollout).

A declaration that cannot be used is refused when it is loaded (``DeclarationError``: one line
naming the module and the problem, ``chalicelib.schema.check``), never halfway through a run.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from chalicelib.schema.check import declaration_problems
from chalicelib.schema.current import CURRENT
from chalicelib.schema.errors import DeclarationError
from chalicelib.schema.spec import Schema

ENV_VAR = "DYNAMO_EVOLVE_SCHEMA"
DEFAULT = "chalicelib.schema.current:CURRENT"

_active: list[Schema] = []


@lru_cache(maxsize=8)
def load_schema(reference: str) -> Schema:
    """The declaration named ``package.module:NAME`` (NAME defaults to SCHEMA), checked.

    Raises DeclarationError naming the reference and the first problem."""
    module_name, _, attribute = reference.partition(":")
    attribute = attribute or "SCHEMA"
    if not module_name:
        raise DeclarationError(reference, "not of the form package.module:NAME")
    try:
        module = importlib.import_module(module_name)
    except DeclarationError as error:  # a declaration the module makes is refused as it is made
        raise DeclarationError(reference, error.problem, error.problems) from error
    except Exception as error:  # any error while importing the user's module: name it, one line
        raise DeclarationError(reference, f"module {module_name} does not import: {type(error).__name__}: {error}") from error
    schema = getattr(module, attribute, None)
    if schema is None:
        raise DeclarationError(reference, f"module {module_name} has no {attribute}")
    if not isinstance(schema, Schema):
        raise DeclarationError(reference, f"{attribute} is a {type(schema).__name__}, not a Schema")
    problems = declaration_problems(schema)
    if problems:
        raise DeclarationError(reference, "; ".join(problems))
    return schema


def active_reference() -> str:
    return os.environ.get(ENV_VAR) or DEFAULT


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


@contextmanager
def schema_from(reference: str) -> Iterator[Schema]:
    """Load ``reference`` (DeclarationError when unusable) and make it the active declaration of
    this process and of the processes it starts (the environment variable) until the block ends."""
    schema = load_schema(reference)
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = reference
    try:
        with use_schema(schema):
            yield schema
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before
