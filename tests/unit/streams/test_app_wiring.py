"""app.py wiring: Chalice invokes the two stream handlers with Lambda events; start-up and logging."""

import importlib
import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.streams import BatchRetry, dependencies
from chalicelib.streams.dependencies import Dependencies
from chalicelib.streams.observability import logger
from tests.unit.streams.conftest import EVENTS_ARN, PARTICIPANTS_ARN, load_event, stored_item

PROJECT_DIR = Path(__file__).resolve().parents[3]
LAMBDA_ENV = {
    "EVENTS_STREAM_ARN": EVENTS_ARN,
    "PARTICIPANTS_STREAM_ARN": PARTICIPANTS_ARN,
    "EVENTS_TABLE": "events",
    "PARTICIPANTS_TABLE": "participants",
    "FAILURES_TABLE": "migration-failures",
}


@pytest.fixture
def chalice_app(monkeypatch, dynamodb, settings):
    for name, value in LAMBDA_ENV.items():
        monkeypatch.setenv(name, value)
    app_module = importlib.import_module("app")
    dependencies.override(Dependencies(settings, dynamodb))
    yield app_module.app
    dependencies.override(None)


def seed(dynamodb, table, event, *indexes):
    for i in indexes:
        dynamodb.put_item(TableName=table, Item=stored_item(event["Records"][i]["dynamodb"]["NewImage"]))


def seed_event(dynamodb, settings, event_id):
    """A legacy event the participant records can point at (from the hand-written legacy insert)."""
    legacy = load_event("events_legacy_changes")["Records"][0]["dynamodb"]["NewImage"]
    dynamodb.put_item(TableName=settings.table("events"), Item=stored_item({**legacy, "eventId": {"S": event_id}}))


def test_stream_handlers_are_registered_on_the_configured_streams(chalice_app):
    sources = {config.name: config.stream_arn for config in chalice_app.event_sources}
    assert sources == {"events_stream": EVENTS_ARN, "participants_stream": PARTICIPANTS_ARN}


def test_chalice_invokes_both_handlers(chalice_app, dynamodb, settings):
    # given legacy writes and participant joins, as Lambda delivers them
    events = load_event("events_legacy_changes")
    joins = load_event("participants_changes")
    seed(dynamodb, settings.table("events"), events, 0, 1)
    seed_event(dynamodb, settings, "e-p")
    seed(dynamodb, settings.table("participants"), joins, 0, 1)
    with Client(chalice_app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        events_reply = client.lambda_.invoke("events_stream", events)
        joins_reply = client.lambda_.invoke("participants_stream", joins)
    # then both answer with an empty partial-batch response, the events upgraded and counted
    assert events_reply.payload == {"batchItemFailures": []}
    assert joins_reply.payload == {"batchItemFailures": []}
    get = lambda key: dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": {"S": key}})["Item"]  # noqa: E731
    assert get("e-mod")["status"] == {"S": "live"} and get("e-new")["status"] == {"S": "setup"}
    assert get("e-p")["participantCount"] == {"N": "2"}


def _fail_queries(monkeypatch, dynamodb, error):
    def failing(**_):
        raise error

    monkeypatch.setattr(dynamodb, "query", failing)


def _throttled():
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")


@pytest.mark.parametrize("partial", ["true", "false"])
def test_a_transient_failure_is_retried(chalice_app, monkeypatch, dynamodb, settings, lambda_context, partial):
    # given a join whose event cannot be counted right now (throttled)
    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", partial)
    joins = load_event("participants_changes")
    seed_event(dynamodb, settings, "e-p")
    _fail_queries(monkeypatch, dynamodb, _throttled())
    handler = chalice_app.handler_map["participants_stream"]
    # then it is reported for retry: as batch item failures, or by failing the whole batch
    if partial == "true":
        reply = handler(joins, lambda_context)
        assert [f["itemIdentifier"] for f in reply["batchItemFailures"]] == [
            r["dynamodb"]["SequenceNumber"] for r in joins["Records"] if r["eventName"] != "MODIFY"
        ]
    else:
        with pytest.raises(BatchRetry):
            handler(joins, lambda_context)


@pytest.mark.parametrize("partial", ["true", "false"])
@pytest.mark.parametrize("name", ["aws_sample", "events_undecodable", "events_refused"])
def test_a_permanent_failure_is_recorded_never_retried(chalice_app, monkeypatch, dynamodb, settings, lambda_context, partial, name):
    # given records that can never be applied (foreign keys, undecodable image, refused by the rule)
    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", partial)
    event = load_event(name)
    for raw in event["Records"]:
        if "eventId" in raw["dynamodb"]["Keys"] and not name.endswith("undecodable"):
            dynamodb.put_item(TableName=settings.table("events"), Item=stored_item(raw["dynamodb"]["NewImage"]))
    # when Lambda delivers them, then the handler returns normally with nothing to retry
    reply = chalice_app.handler_map["events_stream"](event, lambda_context)
    assert reply == {"batchItemFailures": []}
    rows = dynamodb.scan(TableName=settings.failures_table)["Items"]
    assert rows, "the failures table must name the record"


@pytest.mark.parametrize("partial", ["true", "false"])
def test_a_bug_in_the_count_rule_is_recorded_and_the_other_events_counted(chalice_app, monkeypatch, dynamodb, settings, lambda_context, partial, deps):
    # given joins to two events, and a count rule that hits a KeyError on one of them
    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", partial)
    joins = load_event("participants_changes")
    other = json.loads(json.dumps(joins["Records"][1]).replace('"e-p"', '"e-q"').replace("200000000000000000002", "200000000000000000009"))
    joins["Records"].append(other)
    seed_event(dynamodb, settings, "e-p")
    seed_event(dynamodb, settings, "e-q")
    seed(dynamodb, settings.table("participants"), joins, 0, 1, 4)
    real_count = deps.counter.count

    def buggy(event_id):
        if event_id == "e-p":
            return {}["participantCount"]
        return real_count(event_id)

    monkeypatch.setattr(type(deps.counter), "count", lambda self, event_id: buggy(event_id))
    # when the batch is handled
    reply = chalice_app.handler_map["participants_stream"](joins, lambda_context)
    # then nothing is retried, e-q is counted, and e-p's records are in the failures table
    assert reply == {"batchItemFailures": []}
    stored = dynamodb.get_item(TableName=settings.table("events"), Key={"eventId": {"S": "e-q"}})["Item"]
    assert stored["participantCount"] == {"N": "1"}
    keys = sorted(row["itemKey"]["S"] for row in dynamodb.scan(TableName=settings.failures_table)["Items"])
    assert keys == ["participants#e-p/p1", "participants#e-p/p2", "participants#e-p/p3"]


def test_a_refused_record_is_logged_once_at_warning(chalice_app, dynamodb, settings, lambda_context):
    # given the level prod runs at, every handler of the service's logger writing to one buffer,
    # and a record the upgrade rule refuses
    event = load_event("events_refused")
    dynamodb.put_item(TableName=settings.table("events"), Item=stored_item(event["Records"][0]["dynamodb"]["NewImage"]))
    ours = [h for h in logging.getLogger(logger.service).handlers if not type(h).__module__.startswith("_pytest")]
    buffer = io.StringIO()
    streams = [handler.setStream(buffer) for handler in ours]
    previous = logger.log_level
    logger.setLevel("WARNING")
    try:
        chalice_app.handler_map["events_stream"](event, lambda_context)
    finally:
        logger.setLevel(previous)
        for handler, stream in zip(ours, streams, strict=True):
            handler.setStream(stream)
    # then exactly one line says so, at WARNING, with the key and the reasons (naming the attribute,
    # not its value: the item's values stay in the failures table)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    refused = [line for line in lines if "refused" in line.get("message", "")]
    assert len(refused) == 1, buffer.getvalue()
    [line] = refused
    assert line["level"] == "WARNING" and line["eventId"] == "e-paused"
    assert any("status <value>" in reason for reason in line["reasons"])
    assert not any("paused" in reason for reason in line["reasons"])
    assert line["function_name"] == lambda_context.function_name  # inject_lambda_context


def test_missing_table_names_stop_the_lambda_at_start_up(tmp_path):
    # given the Lambda's environment without its table names
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR), "AWS_DEFAULT_REGION": "us-east-1",
           "EVENTS_STREAM_ARN": EVENTS_ARN, "PARTICIPANTS_STREAM_ARN": PARTICIPANTS_ARN, "EVENTS_TABLE": "dev-events"}
    # when app.py is imported (a cold start), then it fails naming what is missing
    done = subprocess.run([sys.executable, "-c", "import app"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "PARTICIPANTS_TABLE, FAILURES_TABLE not set" in done.stderr


@pytest.mark.parametrize(("named", "schema", "starts"), [
    ("2", None, True), ("3", None, False), ("3", "examples.rename.schema:EXPAND", True)],
    ids=["same version", "environment names another", "declaration of that version"])
def test_the_environment_names_the_schema_version_the_app_may_run(tmp_path, named, schema, starts):
    # given the Lambda's environment naming a schema version, and a declaration
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR), "AWS_DEFAULT_REGION": "us-east-1",
           "EVENTS_STREAM_ARN": EVENTS_ARN, "PARTICIPANTS_STREAM_ARN": PARTICIPANTS_ARN, "EVENTS_TABLE": "dev-events",
           "PARTICIPANTS_TABLE": "dev-participants", "FAILURES_TABLE": "dev-failures",
           "DYNAMO_EVOLVE_SCHEMA_VERSION": named, **({"DYNAMO_EVOLVE_SCHEMA": schema} if schema else {})}
    # when app.py is imported (packaging, deploying, a cold start)
    done = subprocess.run([sys.executable, "-c", "import app"], cwd=tmp_path, env=env, capture_output=True, text=True)
    # then it starts only when they agree, else it names both
    assert (done.returncode == 0) is starts, done.stderr
    if not starts:
        assert "DYNAMO_EVOLVE_SCHEMA_VERSION is '3' but the declaration (chalicelib.schema.current:CURRENT) is version 2" \
            in done.stderr


@pytest.mark.parametrize("partial", ["true", "false"])
def test_events_transient_failure_is_retried_and_a_count_bug_is_recorded(chalice_app, monkeypatch, dynamodb, settings, lambda_context, deps, partial):
    # given two legacy writes: e-new's write is throttled, e-mod's count rule hits a KeyError
    from botocore.exceptions import ClientError

    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", partial)
    event = load_event("events_legacy_changes")
    seed(dynamodb, settings.table("events"), event, 0, 1)
    real_update, real_count = dynamodb.update_item, deps.counter.count

    def throttled(**kwargs):
        if kwargs["Key"]["eventId"]["S"] == "e-new":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "UpdateItem")
        return real_update(**kwargs)

    def buggy(event_id):
        return {}["participantCount"] if event_id == "e-mod" else real_count(event_id)

    monkeypatch.setattr(dynamodb, "update_item", throttled)
    monkeypatch.setattr(type(deps.counter), "count", lambda self, event_id: buggy(event_id))
    handler = chalice_app.handler_map["events_stream"]
    # then only the throttled record is retried; the KeyError one is recorded, whichever the mode
    if partial == "true":
        assert handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "100000000000000000011"}]}
    else:
        with pytest.raises(BatchRetry):
            handler(event, lambda_context)
    [row] = dynamodb.scan(TableName=settings.failures_table)["Items"]
    assert row["itemKey"] == {"S": "events#e-mod"} and "KeyError" in row["reasons"]["L"][0]["S"]


@pytest.mark.parametrize("partial", ["true", "false"])
@pytest.mark.parametrize("name", ["aws_sample", "participants_changes"])
def test_participants_permanent_failures_are_recorded_never_retried(chalice_app, monkeypatch, dynamodb, settings, lambda_context, partial, name):
    # given foreign records, or joins to an event that does not exist
    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", partial)
    # when Lambda delivers them, then nothing is retried and the failures table names them
    reply = chalice_app.handler_map["participants_stream"](load_event(name), lambda_context)
    assert reply == {"batchItemFailures": []}
    assert dynamodb.scan(TableName=settings.failures_table)["Items"]


@pytest.mark.parametrize("partial", ["true", "false"])
def test_an_event_that_keeps_changing_under_the_write_is_retried(chalice_app, monkeypatch, dynamodb, settings, lambda_context, deps, partial):
    # given a legacy insert whose every conditional write loses to another writer
    from chalicelib.item_store import WriteResult

    monkeypatch.setenv("PARTIAL_BATCH_RESPONSE", partial)
    event = load_event("events_refused")
    image = dict(event["Records"][0]["dynamodb"]["NewImage"], status={"S": "waiting"})
    event["Records"][0]["dynamodb"]["NewImage"] = image
    dynamodb.put_item(TableName=settings.table("events"), Item=stored_item(image))
    stored = deps.store.get("e-paused")
    monkeypatch.setattr(type(deps.store), "conditional_set", lambda self, *a, **k: WriteResult(False, stored))
    monkeypatch.setattr("chalicelib.upgrader.Backoff.wait", lambda self, attempt: None)
    handler = chalice_app.handler_map["events_stream"]
    # then it is retried (contention is transient), never recorded as a failure
    if partial == "true":
        assert handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "500000000000000000001"}]}
    else:
        with pytest.raises(BatchRetry):
            handler(event, lambda_context)
    assert dynamodb.scan(TableName=settings.failures_table)["Items"] == []
