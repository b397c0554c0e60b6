"""The live path's CloudWatch alarms, as put_metric_alarm arguments: pure.

The same alarms are in .chalice/merge-template.json for the CloudFormation path (a unit test
keeps the two in step); ``backfill live alarms`` puts these for the `chalice deploy` path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backfill.live.model import APP_NAME, failure_queue_name, function_name, handlers

DEFAULT_ITERATOR_AGE_MS = 300_000  # five minutes behind the table is worth waking someone
PERIOD_S = 300
# The powertools metrics (chalicelib.streams.observability) for records the live path could not
# apply and stored in the failures table: the upgrade rule refused them, or their item is missing.
UNAPPLIED_METRICS = ("refused", "reported")


@dataclass(frozen=True)
class AlarmTarget:
    """What the alarms watch: a stage's two functions, its failure queue and its metrics service."""

    stage: str
    metrics_namespace: str
    metrics_service: str
    app_name: str = APP_NAME
    iterator_age_ms: int = DEFAULT_ITERATOR_AGE_MS
    topic_arn: str | None = None

    def prefix(self) -> str:
        return f"{self.app_name}-{self.stage}"


def _alarm(target: AlarmTarget, name: str, description: str, namespace: str, metric: str,
           dimensions: Mapping[str, str], statistic: str, threshold: float) -> dict[str, Any]:
    actions = [target.topic_arn] if target.topic_arn else []
    return {
        "AlarmName": f"{target.prefix()}-{name}",
        "AlarmDescription": description,
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
        "Statistic": statistic,
        "Period": PERIOD_S,
        "EvaluationPeriods": 1,
        "Threshold": float(threshold),
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": bool(actions),
        "AlarmActions": actions,
        "OKActions": actions,
    }


def alarm_specs(target: AlarmTarget) -> list[dict[str, Any]]:
    """Every alarm of the stage, in put_metric_alarm's argument shape."""
    specs: list[dict[str, Any]] = []
    for handler in handlers():
        function = function_name(target.stage, handler, target.app_name)
        on_function = {"FunctionName": function}
        specs += [
            _alarm(target, f"{handler}-iterator-age",
                   f"{function} is more than {target.iterator_age_ms} ms behind its stream",
                   "AWS/Lambda", "IteratorAge", on_function, "Maximum", target.iterator_age_ms),
            _alarm(target, f"{handler}-errors", f"{function} failed invocations (whole batches retried)",
                   "AWS/Lambda", "Errors", on_function, "Sum", 0),
            _alarm(target, f"{handler}-throttles", f"{function} was throttled",
                   "AWS/Lambda", "Throttles", on_function, "Sum", 0),
        ]
    for metric in UNAPPLIED_METRICS:
        specs.append(_alarm(target, f"records-{metric}",
                            f"stream records {metric} by the live path (see `backfill failures`)",
                            target.metrics_namespace, metric, {"service": target.metrics_service}, "Sum", 0))
    specs.append(_alarm(target, "failure-queue-depth",
                        "stream batches that exhausted their retries are waiting in the failure queue",
                        "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": failure_queue_name(target.stage, target.app_name)}, "Maximum", 0))
    return specs


# The fields put_metric_alarm takes that describe_alarms returns under the same name.
_COMPARED = ("AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period",
             "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData",
             "ActionsEnabled", "AlarmActions", "OKActions")


def differs(spec: Mapping[str, Any], existing: Mapping[str, Any] | None) -> list[str]:
    """The fields of ``spec`` an existing alarm (describe_alarms' shape) does not match yet."""
    if existing is None:
        return ["(missing)"]
    changed = []
    for field in _COMPARED:
        want, have = spec.get(field), existing.get(field)
        if field == "Dimensions":
            want, have = _sorted_dimensions(want or []), _sorted_dimensions(have or [])
        elif field in ("AlarmActions", "OKActions"):
            want, have = sorted(want or []), sorted(have or [])
        elif field == "Threshold":
            want, have = float(want) if want is not None else None, float(have) if have is not None else None
        if want != have:
            changed.append(field)
    return changed


def _sorted_dimensions(dimensions: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    return sorted((d["Name"], d["Value"]) for d in dimensions)
