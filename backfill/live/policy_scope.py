"""The Lambda functions' IAM policies (``.chalice/policy-STAGE-HANDLER.json``) name their stage's
region and account in every ARN, never ``*:*``: a stage's functions may touch its own tables,
streams, queue and log groups, not a table of the same name in another region or account.

The region and account are those of the stage's stream ARNs (``<TABLE>_STREAM_ARN`` in its
environment); ``backfill stream-arns --write`` rewrites the policies with them whenever it writes
the ARNs, so the two never drift apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from backfill.errors import BadInput

SCOPED_SERVICES = ("dynamodb", "sqs", "logs")
_ARN = re.compile(r"\barn:(aws[a-z-]*):(" + "|".join(SCOPED_SERVICES) + r"):([a-z0-9-]*|\*):([0-9]{12}|\*):")


def region_and_account(arns: list[str]) -> tuple[str, str]:
    """The one region and account the ``arns`` name (BadInput when they name none or several)."""
    found = {(match.group(3), match.group(4)) for arn in arns if (match := _ARN.match(arn))}
    if len(found) != 1 or "*" in next(iter(found)):
        raise BadInput(f"the stream ARNs {arns} do not name one region and account for the stage's policies")
    return found.pop()


def scoped(text: str, region: str, account: str) -> str:
    """``text`` (a policy document) with every DynamoDB, SQS and Logs ARN in ``region`` and ``account``."""
    return _ARN.sub(lambda match: f"arn:{match.group(1)}:{match.group(2)}:{region}:{account}:", text)


def arns_of(text: str) -> list[tuple[str, str, str]]:
    """(service, region, account) of every scoped-service ARN in ``text``."""
    return [(match.group(2), match.group(3), match.group(4)) for match in _ARN.finditer(text)]


def policy_files(config_path: Path, stage: str) -> list[Path]:
    """The policy files the stage's functions use (``iam_policy_file``), beside the config."""
    config = json.loads(config_path.read_text(encoding="utf-8"))
    functions = ((config.get("stages") or {}).get(stage) or {}).get("lambda_functions") or {}
    names = sorted({str(f["iam_policy_file"]) for f in functions.values() if isinstance(f, dict) and "iam_policy_file" in f})
    return [config_path.parent / name for name in names]
