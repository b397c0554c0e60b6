"""deploy/: the AWS Batch template passes cfn-lint and grants the two tables and the run store
prefix only (and the read-only live-path check); every array-job definition (migrate and restore,
on AWS Batch and Kubernetes) gives the CLI a command line it accepts, the segment left to the
array's index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from cfnlint.decode import cfn_yaml

from backfill.cli.main import cli

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATE = DEPLOY / "batch-fargate.yaml"


def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def test_the_batch_template_passes_cfn_lint():
    # informational rules (I...) included, as for the Chalice templates
    done = subprocess.run([sys.executable, "-c", "from cfnlint.runner import main; main()", "--include-checks", "I",
                           "--", str(TEMPLATE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def when(value: Any, conditions: dict[str, bool]) -> Any:
    """``value`` with every ``Fn::If`` decided by ``conditions`` and ``AWS::NoValue`` dropped."""
    if isinstance(value, list):
        return [item for item in (when(v, conditions) for v in value) if item != {"Ref": "AWS::NoValue"}]
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, yes, no = value["Fn::If"]
            return when(yes if conditions[name] else no, conditions)
        return {k: v for k, v in ((k, when(v, conditions)) for k, v in value.items()) if v != {"Ref": "AWS::NoValue"}}
    return value


KEY = {"UseKmsKey": True, "CreateRunStoreBucket": True, "ExpireRunStore": True, "LockRunStore": True}
NO_KEY = {"UseKmsKey": False, "CreateRunStoreBucket": True, "ExpireRunStore": False, "LockRunStore": False}
ROLES = ("MigrateJobRole", "RestoreJobRole")
WRITES = {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}


def role_statements(conditions: dict[str, bool], role: str = "MigrateJobRole") -> list[dict[str, Any]]:
    [policy] = when(template()["Resources"][role]["Properties"]["Policies"], conditions)
    return list(policy["PolicyDocument"]["Statement"])


def grants(role: str) -> dict[str, tuple[set[str], str]]:
    """Sid -> (actions, resource) of ``role`` without a key; no action is a wildcard."""
    granted = {}
    for statement in role_statements(NO_KEY, role):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert statement["Effect"] == "Allow" and all("*" not in a for a in actions)
        resource = statement["Resource"]
        sub = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
        granted[statement["Sid"]] = (set(actions), sub[0] if isinstance(sub, list) else sub)
    listing = next(s for s in role_statements(NO_KEY, role) if s["Sid"] == "RunStoreList")
    assert listing["Condition"]["StringLike"]["s3:prefix"] == {"Fn::Sub": "${RunStorePrefix}/*"}
    assert granted["RunStoreObjects"][1].endswith("s3:::${Bucket}/${RunStorePrefix}/*")
    return granted


def test_the_migrate_role_reads_both_tables_and_only_updates_events():
    granted = grants("MigrateJobRole")
    assert granted["EventsMigrate"][1].endswith(":table/${EventsTableName}")
    assert granted["EventsMigrate"][0] & WRITES == {"dynamodb:UpdateItem"}  # never puts or deletes an item
    assert granted["ParticipantsCount"][1].endswith(":table/${ParticipantsTableName}")
    assert not granted["ParticipantsCount"][0] & WRITES
    assert granted["RunStoreObjects"][0] == {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert set(granted) == {"EventsMigrate", "ParticipantsCount", "RunStoreList", "RunStoreObjects"}


def test_the_restore_role_writes_events_back_and_reads_the_run_store():
    granted = grants("RestoreJobRole")
    assert granted["EventsRestore"][1].endswith(":table/${EventsTableName}")
    assert granted["EventsRestore"][0] & WRITES == WRITES
    assert granted["RunStoreObjects"][0] == {"s3:GetObject", "s3:PutObject"}
    # the one unscoped statement only lists stream mappings (the action has no resource-level permissions)
    assert granted["LivePathCheck"] == ({"lambda:ListEventSourceMappings"}, "*")
    assert set(granted) == {"EventsRestore", "LivePathCheck", "RunStoreList", "RunStoreObjects"}


def test_each_job_runs_under_its_own_role():
    resources = template()["Resources"]
    assert resources["JobDefinition"]["Properties"]["ContainerProperties"]["JobRoleArn"] == {
        "Fn::GetAtt": ["MigrateJobRole", "Arn"]}
    assert resources["RestoreJobDefinition"]["Properties"]["ContainerProperties"]["JobRoleArn"] == {
        "Fn::GetAtt": ["RestoreJobRole", "Arn"]}
    assert "JobRole" not in resources


def test_the_created_bucket_is_versioned_and_object_lock_is_offered():
    bucket = template()["Resources"]["CreatedRunStoreBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = when(bucket, NO_KEY)["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": {"Ref": "RunStoreNoncurrentDays"}}
    assert "ObjectLockEnabled" not in when(bucket, NO_KEY) and "ObjectLockConfiguration" not in when(bucket, NO_KEY)
    locked = when(bucket, KEY)
    assert locked["ObjectLockEnabled"] is True
    assert locked["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": {"Ref": "RunStoreObjectLockMode"}, "Days": {"Ref": "RunStoreObjectLockDays"}}
    assert template()["Parameters"]["RunStoreObjectLockDays"]["Default"] == 0  # off unless asked


def accepted(args: list[str]) -> dict[str, Any]:
    """Parse (not run) ``backfill ARGS``: raises click's usage error for an unknown option."""
    command = cli.get_command(click.Context(cli), args[0])
    assert command is not None, args[0]
    return command.make_context(args[0], args[1:]).params


def test_the_batch_job_command_is_a_migrate_command_line_the_cli_accepts():
    properties = template()["Resources"]["JobDefinition"]["Properties"]
    command = properties["ContainerProperties"]["Command"]
    filled = [{"Ref::segments": "8", "Ref::ratelimit": "0"}.get(w, w) if isinstance(w, str) else "s3://b/p"
              for w in command]
    params = accepted(filled)
    assert params["total_segments"] == 8 and params["segment"] is None  # the index comes from the array
    assert set(properties["Parameters"]) == {"segments", "ratelimit"}
    assert properties["RetryStrategy"]["Attempts"] >= 2  # a retried child resumes its segment


def test_the_batch_restore_job_restores_one_segment_of_the_run_per_child():
    properties = template()["Resources"]["RestoreJobDefinition"]["Properties"]
    command = properties["ContainerProperties"]["Command"]
    filled = [{"Ref::run": "7f3a-array"}.get(w, w) if isinstance(w, str) else "s3://b/p" for w in command]
    assert filled[0] == "restore"
    params = accepted(filled)
    assert params["run"] == "7f3a-array" and params["segment"] is None  # the index comes from the array
    assert params["yes"] and not params["live_path_running"]  # refuses while the live path runs
    assert set(properties["Parameters"]) == {"run"}
    # the CLI's own exit codes (conflicts, bad input, refused) are final; a lost container is retried
    final = {rule["OnExitCode"] for rule in properties["RetryStrategy"]["EvaluateOnExit"] if rule["Action"] == "EXIT"}
    assert final == {"1", "2", "3"}
    outputs = template()["Outputs"]
    assert "--parameters run=" in outputs["RestoreCommand"]["Value"]["Fn::Sub"]


def test_the_kubernetes_restore_job_restores_one_segment_per_index():
    [job] = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "restore-indexed-job.yaml").read_text()))
    spec = job["spec"]
    [container] = spec["template"]["spec"]["containers"]
    assert container["args"][0] == "restore"
    params = accepted(container["args"])
    assert params["run"] and params["segment"] is None and spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    [rule] = spec["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailIndex" and rule["onExitCodes"]["values"] == [1, 2, 3]


def test_the_kubernetes_indexed_job_splits_as_many_segments_as_it_has_completions():
    documents = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "backfill-indexed-job.yaml").read_text()))
    [job] = [d for d in documents if d["kind"] == "Job"]
    spec = job["spec"]
    [container] = spec["template"]["spec"]["containers"]
    params = accepted(container["args"])
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == params["total_segments"]
    assert {e["name"] for e in container["env"]} >= {"BACKFILL_RUN_ID", "EVENTS_TABLE", "PARTICIPANTS_TABLE"}


def test_the_kubernetes_jobs_require_pitr():
    for name in ("backfill-indexed-job.yaml", "restore-indexed-job.yaml"):
        [job] = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d["kind"] == "Job"]
        [container] = job["spec"]["template"]["spec"]["containers"]
        assert {"name": "BACKFILL_REQUIRE_PITR", "value": "true"} in container["env"], name


def test_with_a_kms_key_the_job_roles_may_use_that_key_through_s3_for_data_keys_and_decryption_only():
    for role in ROLES:
        # given the template with RunStoreKmsKeyArn set
        [key_statement] = [s for s in role_statements(KEY, role) if s["Sid"] == "RunStoreKey"]
        # then: two actions, that key only, through S3 only
        assert key_statement["Effect"] == "Allow"
        assert set(key_statement["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
        assert key_statement["Resource"] == {"Ref": "RunStoreKmsKeyArn"}
        assert key_statement["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}
        # and without a key there is no KMS statement at all
        assert not [s for s in role_statements(NO_KEY, role) if any("kms:" in a for a in s["Action"])]


def test_with_a_kms_key_both_jobs_write_every_object_with_it():
    for name in ("JobDefinition", "RestoreJobDefinition"):
        container = when(template()["Resources"][name]["Properties"]["ContainerProperties"], KEY)
        assert {"Name": "BACKUP_SSE_KMS_KEY_ID", "Value": {"Ref": "RunStoreKmsKeyArn"}} in container["Environment"]
        without = when(template()["Resources"][name]["Properties"]["ContainerProperties"], NO_KEY)
        assert all(e["Name"] != "BACKUP_SSE_KMS_KEY_ID" for e in without["Environment"])


def test_the_created_bucket_is_encrypted_private_tls_only_and_expires_multipart_leftovers():
    resources = template()["Resources"]
    bucket = resources["CreatedRunStoreBucket"]
    assert bucket["Condition"] == "CreateRunStoreBucket" and bucket["DeletionPolicy"] == "Retain"
    # encryption: the key when given (with a bucket key), else SSE-S3
    for conditions, expected in ((KEY, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "RunStoreKmsKeyArn"}}),
                                 (NO_KEY, {"SSEAlgorithm": "AES256"})):
        [rule] = when(bucket["Properties"], conditions)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == expected
    # public access blocked four ways, ACLs off
    assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["Properties"]["PublicAccessBlockConfiguration"]) == 4
    # lifecycle: the run store prefix, multipart uploads aborted after 7 days, expiry only when asked
    [rule] = when(bucket["Properties"], KEY)["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == {"Fn::Sub": "${RunStorePrefix}/"}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["ExpirationInDays"] == {"Ref": "RunStoreExpirationDays"}
    [rule] = when(bucket["Properties"], NO_KEY)["LifecycleConfiguration"]["Rules"]
    assert "ExpirationInDays" not in rule
    # a policy that denies every request not made over TLS, on the bucket and its objects
    [statement] = resources["RunStorePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statement["Resource"]) == 2


def test_both_jobs_require_pitr_by_default_and_may_check_it_on_the_events_table_only():
    resources = template()["Resources"]
    assert template()["Parameters"]["RequirePitr"]["Default"] == "true"
    for name in ("JobDefinition", "RestoreJobDefinition"):
        properties = when(resources[name]["Properties"], NO_KEY)
        assert {"Name": "BACKFILL_REQUIRE_PITR", "Value": {"Ref": "RequirePitr"}} in properties["ContainerProperties"]["Environment"]
        assert {"OnExitCode": "3", "Action": "EXIT"} in properties["RetryStrategy"]["EvaluateOnExit"]  # refused is final
    for role, sid in (("MigrateJobRole", "EventsMigrate"), ("RestoreJobRole", "EventsRestore")):
        [events] = [s for s in role_statements(NO_KEY, role) if s["Sid"] == sid]
        assert "dynamodb:DescribeContinuousBackups" in events["Action"]
        assert not [s for s in role_statements(NO_KEY, role) if s["Sid"] != sid
                    and "dynamodb:DescribeContinuousBackups" in s["Action"]]
