"""Chalice app: the live path. One DynamoDB Streams handler per table the declaration names
(``DYNAMO_EVOLVE_SCHEMA``, the events migration by default), thin, delegating to chalicelib.

Each handler is ``<table>_stream`` (``orders_stream``, ``order_items_stream``) and reads its
stream ARN from ``<TABLE>_STREAM_ARN`` in the stage's environment in .chalice/config.json
(Chalice reads them when it packages or deploys the app).
"""

import os

from chalice import Chalice

from chalicelib.config import Settings, deployed_version_problem, handler_name, stream_variable
from chalicelib.schema import active_schema
from chalicelib.streams import stream_handler

# A missing table name is a start-up error (the cold start fails and says which), not a
# silent fallback to the default names.
Settings.for_lambda()
# The stage's environment names the schema version it deploys; packaging, deploying or starting
# with another declaration fails here, so a function never runs a version its environment hides.
_version_problem = deployed_version_problem(os.environ)
if _version_problem:
    raise RuntimeError(_version_problem)

# Logging is powertools' (chalicelib.streams.observability), whose logger is named after the
# service, "dynamo-evolve": left to itself Chalice would configure the logger of the same name
# (level ERROR, a second handler), silencing warnings and printing errors twice.
app = Chalice(app_name="dynamo-evolve", configure_logs=False)


def _setting(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise RuntimeError(
            f"{name} is not set: give it per stage in .chalice/config.json (environment_variables)"
        ) from None


BATCH_SIZE = int(os.environ.get("STREAM_BATCH_SIZE", "100"))
STARTING_POSITION = os.environ.get("STREAM_STARTING_POSITION", "TRIM_HORIZON")


def _register(table: str) -> None:
    handler = stream_handler(table)

    def on_record(event):
        return handler(event.to_dict(), event.context)

    name = handler_name(table)
    on_record.__name__ = name
    app.on_dynamodb_record(
        stream_arn=_setting(stream_variable(table)),
        batch_size=BATCH_SIZE,
        starting_position=STARTING_POSITION,
        name=name,
    )(on_record)


for _table in active_schema().tables:
    _register(_table)
