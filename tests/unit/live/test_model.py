"""backfill.live.model: names chalice gives, states, and the commands printed to undo a pause."""

from backfill.live.model import StreamMapping, function_names, running, stage_of, switch_commands

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}".format
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/dev-events/stream/2026-01-01T00:00:00.000"


def mapping(function: str, state: str, uuid: str = "u1") -> StreamMapping:
    # as ListEventSourceMappings returns it (documented response shape)
    return StreamMapping.from_api({"UUID": uuid, "FunctionArn": ARN(function), "EventSourceArn": STREAM, "State": state,
                                   "BatchSize": 100, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                                   "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}}})


def test_function_names_and_their_stage_round_trip():
    for stage in ("dev", "prod", "team-a-dev"):
        assert [stage_of(name) for name in function_names(stage)] == [stage, stage]
        assert [stage_of(ARN(name)) for name in function_names(stage)] == [stage, stage]
    assert stage_of("someone-elses-function") is None
    assert stage_of("dynamo-evolve--events_stream") is None


def test_a_mapping_is_read_from_the_api_shape():
    m = mapping("dynamo-evolve-dev-events_stream", "Enabled")
    assert (m.function, m.table, m.batch_size, m.report_batch_item_failures, m.on_failure) == (
        "dynamo-evolve-dev-events_stream", "dev-events", 100, True, "arn:aws:sqs:us-east-1:1:q")


def test_anything_not_disabled_may_still_deliver_records():
    states = ["Enabled", "Enabling", "Disabling", "Updating", "Creating", "Disabled"]
    found = running([mapping("f", state, uuid=state) for state in states])
    assert [m.state for m in found] == states[:-1]


def test_switch_commands_one_per_stage_and_the_aws_cli_for_other_functions():
    mappings = [mapping("dynamo-evolve-dev-events_stream", "Disabled", "a"),
                mapping("dynamo-evolve-dev-participants_stream", "Disabled", "b"),
                mapping("other-consumer", "Disabled", "c")]
    assert switch_commands(mappings, "resume") == [
        "backfill live resume --stage dev", "aws lambda update-event-source-mapping --uuid c --enabled"]
    assert switch_commands(mappings, "pause")[1].endswith("--uuid c --no-enabled")
