"""The alarms `backfill live alarms` puts, and the merge template's, watch the same metrics."""

import json
from pathlib import Path

from backfill.live.alarms import AlarmTarget, alarm_specs, differs

CHALICE_DIR = Path(__file__).resolve().parents[3] / ".chalice"
TARGET = AlarmTarget(stage="prod", metrics_namespace="DynamoEvolve", metrics_service="dynamo-evolve-prod")


def described(spec: dict) -> dict:
    """What describe_alarms returns for an alarm put with ``spec`` (documented MetricAlarm shape)."""
    return {**spec, "AlarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:x", "StateValue": "OK",
            "Dimensions": list(reversed(spec["Dimensions"])), "Threshold": float(spec["Threshold"])}


def test_an_alarm_as_described_back_does_not_differ_and_a_change_is_named():
    for spec in alarm_specs(TARGET):
        assert differs(spec, described(spec)) == []
    spec = alarm_specs(TARGET)[0]
    assert differs(spec, None) == ["(missing)"]
    assert differs(spec, {**described(spec), "Threshold": 1.0, "AlarmActions": ["arn:aws:sns:x"]}) == ["Threshold", "AlarmActions"]


def test_a_topic_is_notified_on_alarm_and_on_ok():
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    for spec in alarm_specs(AlarmTarget(**{**TARGET.__dict__, "topic_arn": topic})):
        assert spec["AlarmActions"] == [topic] == spec["OKActions"] and spec["ActionsEnabled"]


def test_the_merge_template_has_the_same_alarms():
    # the template's alarms refer to the resources by Ref; compare what each watches and when
    template = json.loads((CHALICE_DIR / "merge-template.json").read_text())
    logical = {"dynamo-evolve-prod-events_stream": {"Ref": "EventsStream"},
               "dynamo-evolve-prod-participants_stream": {"Ref": "ParticipantsStream"},
               "dynamo-evolve-prod-stream-failures": {"Fn::GetAtt": ["StreamFailureQueue", "QueueName"]},
               "dynamo-evolve-prod": {"Ref": "MetricsService"}}

    def watched(alarm: dict, threshold: object) -> tuple:
        dimensions = tuple((d["Name"], json.dumps(d["Value"], sort_keys=True)) for d in alarm["Dimensions"])
        return (alarm["Namespace"], alarm["MetricName"], dimensions, alarm["Statistic"], alarm["Period"],
                alarm["EvaluationPeriods"], alarm["ComparisonOperator"], alarm["TreatMissingData"], threshold)

    from_specs = set()
    for spec in alarm_specs(TARGET):
        dims = [{"Name": d["Name"], "Value": logical.get(d["Value"], d["Value"])} for d in spec["Dimensions"]]
        threshold = {"Ref": "IteratorAgeAlarmMs"} if spec["MetricName"] == "IteratorAge" else spec["Threshold"]
        from_specs.add(watched({**spec, "Dimensions": dims}, json.dumps(threshold)))
    in_template = {watched(r["Properties"], json.dumps(r["Properties"]["Threshold"]))
                   for r in template["Resources"].values() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    assert in_template == from_specs
    assert template["Parameters"]["IteratorAgeAlarmMs"]["Default"] == TARGET.iterator_age_ms
    # the default service dimension is the one the prod stage's handlers publish under
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    prod = {**config["environment_variables"], **config["stages"]["prod"]["environment_variables"]}
    assert template["Parameters"]["MetricsService"]["Default"] == prod["POWERTOOLS_SERVICE_NAME"] == TARGET.metrics_service
    assert prod["POWERTOOLS_METRICS_NAMESPACE"] == TARGET.metrics_namespace
