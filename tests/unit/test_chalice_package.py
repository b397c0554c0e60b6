"""`chalice package` builds a template with both stream mappings, one least-privilege role per
function, and the merge template's settings, queue, alarms and dashboard. Every packaged template
is checked by cfn-lint, informational rules included."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backfill.live.policy_scope import region_and_account

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHALICE = [sys.executable, "-c", "from chalice.cli import main; main()"]
CFN_LINT = [sys.executable, "-c", "from cfnlint.runner import main; main()"]
CONFIG = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
FUNCTIONS = {"EventsStream": ("events_stream", "EVENTS_TABLE"), "ParticipantsStream": ("participants_stream", "PARTICIPANTS_TABLE")}


def stage_environment(stage: str) -> dict:
    return {**CONFIG["environment_variables"], **CONFIG["stages"][stage]["environment_variables"]}


def package(out_dir: Path, stage: str, *extra: str) -> dict:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [*CHALICE, "package", "--stage", stage, *extra, str(out_dir)],
        cwd=PROJECT_DIR, env=env, check=True, capture_output=True, timeout=120,
    )
    # every packaged template passes cfn-lint, informational checks (I...) included
    lint = subprocess.run([*CFN_LINT, "--include-checks", "I", "--", str(out_dir / "sam.json")],
                          capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, f"cfn-lint on the {stage} template:\n{lint.stdout}{lint.stderr}"
    return json.loads((out_dir / "sam.json").read_text())


def mapping(template: dict, function: str) -> dict:
    [source] = template["Resources"][function]["Properties"]["Events"].values()
    return source


def statements(template: dict, function: str) -> list[dict]:
    [policy] = template["Resources"][f"{function}Role"]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def grants(template: dict, function: str) -> set[tuple[str, str]]:
    """Every (action, resource) pair the function's role allows."""
    pairs = set()
    for statement in statements(template, function):
        assert statement["Effect"] == "Allow"
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        pairs |= {(action, resource) for action in actions for resource in resources}
    return pairs


@pytest.fixture(scope="module", params=sorted(CONFIG["stages"]))
def merged(request, tmp_path_factory) -> tuple[str, dict]:
    stage = request.param
    return stage, package(tmp_path_factory.mktemp(f"merged-{stage}"), stage, "--merge-template", ".chalice/merge-template.json")


@pytest.mark.parametrize("function,table", [("EventsStream", "events"), ("ParticipantsStream", "participants")])
def test_both_mappings_carry_the_merged_settings(merged, function, table):
    stage, template = merged
    table_name = stage_environment(stage)[FUNCTIONS[function][1]]
    source = mapping(template, function)
    properties = source["Properties"]
    assert source["Type"] == "DynamoDB"
    assert f":table/{table_name}/stream/" in properties["Stream"]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == 10
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    assert variables["PARTIAL_BATCH_RESPONSE"] == "true" and variables["EVENTS_TABLE"] == stage_environment(stage)["EVENTS_TABLE"]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_role_reads_only_its_own_stream_and_touches_only_the_stage_tables(merged, function):
    stage, template = merged
    env = stage_environment(stage)
    handler, own_table = FUNCTIONS[function]
    name = f"dynamo-evolve-{stage}-{handler}"
    # every ARN in the stage's region and account (those of its stream ARNs), never *:*
    scope = ":".join(region_and_account([v for k, v in env.items() if k.endswith("_STREAM_ARN")]))
    table = f"arn:aws:dynamodb:{scope}:table/{{}}".format
    own_stream = table(env[own_table]) + "/stream/*"
    # the events handler's failed conditional write returns the item (no GetItem); the
    # participants handler reads the event before its count write
    reads = {("dynamodb:GetItem", table(env["EVENTS_TABLE"]))} if function == "ParticipantsStream" else set()
    assert grants(template, function) == {
        *reads,
        ("dynamodb:UpdateItem", table(env["EVENTS_TABLE"])),
        ("dynamodb:Query", table(env["PARTICIPANTS_TABLE"])),
        ("dynamodb:PutItem", table(env["FAILURES_TABLE"])),
        ("dynamodb:DescribeStream", own_stream),
        ("dynamodb:GetRecords", own_stream),
        ("dynamodb:GetShardIterator", own_stream),
        ("dynamodb:ListStreams", "*"),  # no resource-level permissions exist for it
        ("sqs:SendMessage", f"arn:aws:sqs:{scope}:dynamo-evolve-{stage}-stream-failures"),  # `chalice deploy` path
        *((action, f"arn:aws:logs:{scope}:log-group:/aws/lambda/{name}{tail}")
          for action in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents") for tail in ("", ":*")),
    }
    role = template["Resources"][f"{function}Role"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert template["Resources"][function]["Properties"]["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}


def test_the_failure_queue_is_kept_and_its_send_policy_comes_before_the_mappings(merged):
    _, template = merged
    resources = template["Resources"]
    queue = resources["StreamFailureQueue"]
    assert queue["DeletionPolicy"] == "Retain" and queue["UpdateReplacePolicy"] == "Retain"
    send = resources["StreamFailureQueueSendPolicy"]["Properties"]
    assert send["Roles"] == [{"Ref": "EventsStreamRole"}, {"Ref": "ParticipantsStreamRole"}]
    assert send["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}}]
    for function in FUNCTIONS:  # the mappings are created with their function, after the policy
        assert "StreamFailureQueueSendPolicy" in resources[function]["DependsOn"]


def test_alarms_watch_both_functions_the_queue_and_the_refused_records(merged):
    stage, template = merged
    alarms = {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    watched = {(a["Namespace"], a["MetricName"], json.dumps(a["Dimensions"], sort_keys=True)) for a in alarms.values()}
    for function in FUNCTIONS:
        for metric in ("IteratorAge", "Errors", "Throttles"):
            assert ("AWS/Lambda", metric, json.dumps([{"Name": "FunctionName", "Value": {"Ref": function}}])) in watched
    service = json.dumps([{"Name": "service", "Value": {"Ref": "MetricsService"}}])
    namespace = stage_environment(stage)["POWERTOOLS_METRICS_NAMESPACE"]
    assert {(namespace, "refused", service), (namespace, "reported", service)} <= watched
    queue = json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["StreamFailureQueue", "QueueName"]}}])
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue) in watched
    topic = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
    assert all(a["AlarmActions"] == topic and a["OKActions"] == topic for a in alarms.values())
    assert template["Resources"]["AlarmTopic"]["Condition"] == "HasAlarmEmail"
    assert template["Resources"]["LivePathDashboard"]["Type"] == "AWS::CloudWatch::Dashboard"


def test_without_the_merge_template_failures_retry_whole_batches(tmp_path):
    # plain package/deploy: the mapping ignores partial responses, so the handlers must not rely on them
    template = package(tmp_path, "dev")
    properties = mapping(template, "EventsStream")["Properties"]
    assert "FunctionResponseTypes" not in properties and properties["StartingPosition"] == "TRIM_HORIZON"
    variables = template["Resources"]["EventsStream"]["Properties"]["Environment"]["Variables"]
    assert variables["PARTIAL_BATCH_RESPONSE"] == "false" and variables["EVENTS_TABLE"] == "dev-events"
    assert grants(template, "EventsStream") & {
        ("dynamodb:GetRecords", "arn:aws:dynamodb:us-east-1:123456789012:table/dev-participants/stream/*")} == set()
    assert ("dynamodb:GetRecords", "arn:aws:dynamodb:us-east-1:123456789012:table/dev-events/stream/*") in grants(
        template, "EventsStream")


def test_each_functions_log_group_expires(merged):
    # the logs name items by key (user data stays out of them), and they expire: 30 days
    _stage, template = merged
    groups = {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert set(groups) == {f"{function}LogGroup" for function in FUNCTIONS}
    for function in FUNCTIONS:
        properties = groups[f"{function}LogGroup"]["Properties"]
        assert properties == {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"}, "RetentionInDays": 30}
