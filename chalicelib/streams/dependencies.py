"""The AWS clients and stores the handlers use, created lazily once per Lambda container.

Importing app.py makes no AWS call; the first invocation builds clients from the environment
(``Settings.for_lambda``: every table name must be set). Tests and the local runner pass their own ``Dependencies`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chalicelib.aws import client, make_session
from chalicelib.config import Settings
from chalicelib.counts import AggregateCounter
from chalicelib.item_store import ItemStore
from chalicelib.schema import active_schema
from chalicelib.streams.failures import FailureStore

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from boto3.session import Session
    from types_boto3_dynamodb import DynamoDBClient


@dataclass
class Dependencies:
    settings: Settings
    dynamodb: DynamoDBClient
    store: ItemStore = field(init=False)  # the migrated table (the declaration's target)
    counters: dict[str, AggregateCounter] = field(init=False)  # aggregate name -> its counter
    failures: FailureStore = field(init=False)

    def __post_init__(self) -> None:
        schema = active_schema()
        self.store = ItemStore(self.dynamodb, self.settings.target_table, schema.key)
        self.counters = {a.name: AggregateCounter(self.dynamodb, self.settings.table(a.source.table), a, schema)
                         for a in schema.aggregates}
        self.failures = FailureStore(self.dynamodb, self.settings.failures_table,
                                     self.settings.failure_retention_days)

    @property
    def counter(self) -> AggregateCounter:
        """The counter of the declaration's first aggregate."""
        return next(iter(self.counters.values()))

    @classmethod
    def from_settings(cls, settings: Settings, session: Session | None = None) -> Dependencies:
        session = session or make_session(region=settings.region)
        return cls(settings, client(session, "dynamodb", settings))


_cached: Dependencies | None = None


def current() -> Dependencies:
    """The container's dependencies, built from the environment on first use."""
    global _cached
    if _cached is None:
        _cached = Dependencies.from_settings(Settings.for_lambda())
    return _cached


def override(dependencies: Dependencies | None) -> None:
    """Use ``dependencies`` for Lambda invocations (tests); None goes back to the environment."""
    global _cached
    _cached = dependencies
