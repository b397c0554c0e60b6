"""backfill.live.policy.allows over the project's own policy files and hand-written documents."""

import json
from pathlib import Path

from backfill.live.policy import allows

CHALICE_DIR = Path(__file__).resolve().parents[3] / ".chalice"


def test_the_stage_policy_allows_sending_to_its_own_queue_only():
    document = json.loads((CHALICE_DIR / "policy-dev-events_stream.json").read_text())
    assert allows([document], "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dynamo-evolve-dev-stream-failures")
    assert not allows([document], "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dynamo-evolve-prod-stream-failures")
    assert not allows([document], "sns:Publish", "arn:aws:sns:us-east-1:123456789012:dynamo-evolve-dev-stream-failures")


def test_wildcards_single_statements_and_what_is_not_an_allow():
    document = {"Statement": {"Effect": "Allow", "Action": "SQS:Send*", "Resource": "arn:aws:sqs:*:*:q-?"}}
    assert allows([document], "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q-1")
    assert not allows([document], "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q-10")
    conditional = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}
    deny = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert not allows([conditional, deny], "sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q")
