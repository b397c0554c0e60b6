"""Versions side by side: which schema version the deployed live path of a stage runs, and the
check that a writing command (``migrate``, ``restore`` with ``--stage``) runs the same one.

The deployed functions name their version in their environment (DYNAMO_EVOLVE_SCHEMA_VERSION,
written from the declaration by ``backfill stream-arns --write``; app.py refuses to be packaged
or deployed with another). A CLI of another version than the live path would have the two undo
each other's work (a v2 live path cannot keep a v3 rename in step), so the command refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from backfill.errors import Refused, TargetError
from backfill.live.guard import lambda_at
from backfill.live.lambda_api import DeployedFunction, LivePathError, stage_functions
from backfill.live.model import APP_NAME
from backfill.table.target import Target
from chalicelib.config import SCHEMA_VERSION_VAR
from chalicelib.schema import active_schema

if TYPE_CHECKING:  # the stubs are a dev dependency: the Lambda and the wheel never import them
    from types_boto3_lambda import LambdaClient

OVERRIDE = "--allow-version-mismatch"
UNRECORDED = "unrecorded"  # a function deployed before versions were recorded


def deployed_version(function: DeployedFunction) -> str:
    return function.environment.get(SCHEMA_VERSION_VAR, UNRECORDED)


def _deployed(target: Target, stage: str, lambda_client: LambdaClient) -> list[DeployedFunction]:
    """The stage's deployed functions; [] when none is deployed at this endpoint (or the endpoint,
    a local one, has no Lambda API at all: nothing runs there to disagree with)."""
    try:
        return [f for f in stage_functions(lambda_client, stage, APP_NAME) if f.arn is not None]
    except LivePathError:
        return []
    except (ClientError, BotoCoreError) as error:
        if target.settings.endpoint_url:
            return []
        raise TargetError(f"cannot read the schema version of stage {stage!r}'s live path: {error}",
                          hint=f"give {OVERRIDE} to run without the check") from error


def check_live_version(target: Target, command: str, *, allow_mismatch: bool) -> None:
    """Refuse (exit 3) when ``--stage``'s deployed live path runs another schema version than the
    active declaration. Nothing to check without ``--stage`` or with ``allow_mismatch``."""
    if target.stage is None or allow_mismatch:
        return
    stage = target.stage.name
    ours = str(active_schema().version)
    # lambda_at: DynamoDB Local answers Lambda with InternalFailure; ten adaptive retries took a minute
    others = {f.name: deployed_version(f) for f in _deployed(target, stage, lambda_at(target))
              if deployed_version(f) != ours}
    if not others:
        return
    theirs = ", ".join(sorted(set(others.values())))
    raise Refused(f"refusing to {command}, nothing was written: the live path of stage {stage!r} runs schema "
                  f"version {theirs} ({', '.join(sorted(others))}), this declaration is version {ours}",
                  hint=f"deploy this declaration first (backfill stream-arns --stage {stage} --write, then chalice "
                       f"deploy --stage {stage}), or give {OVERRIDE} to run anyway")
