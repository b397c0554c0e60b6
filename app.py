"""Chalice app: the live path. Two DynamoDB Streams handlers, thin, delegating to chalicelib.

Stream ARNs and batch settings come from the stage's environment in .chalice/config.json
(Chalice reads them when it packages or deploys the app).
"""

import os

from chalice import Chalice

from chalicelib.config import Settings
from chalicelib.streams import events_stream_handler, participants_stream_handler

# A missing table name is a start-up error (the cold start fails and says which), not a
# silent fallback to the default names.
Settings.for_lambda()

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


@app.on_dynamodb_record(
    stream_arn=_setting("EVENTS_STREAM_ARN"),
    batch_size=BATCH_SIZE,
    starting_position=STARTING_POSITION,
    name="events_stream",
)
def events_stream(event):
    return events_stream_handler(event.to_dict(), event.context)


@app.on_dynamodb_record(
    stream_arn=_setting("PARTICIPANTS_STREAM_ARN"),
    batch_size=BATCH_SIZE,
    starting_position=STARTING_POSITION,
    name="participants_stream",
)
def participants_stream(event):
    return participants_stream_handler(event.to_dict(), event.context)
