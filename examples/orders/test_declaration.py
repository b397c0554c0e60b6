"""Pointing the CLI at the orders declaration, and what happens to one that cannot be used: it
is refused when it is loaded, in one ``Error:`` line naming the declaration and the problem,
exit code 2, never halfway through a run."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import boto3
import pytest

from chalicelib.schema import CountOf, DeclarationError, Field, Key, Kind, Source, upgrade_item
from chalicelib.schema.check import declaration_problems
from examples.orders.schema import ORDERS
from tests.support.cli import REPO, CliRun, cli_env, run_backfill
from tests.support.declaration import problems_of

SCHEMA = "--schema=examples.orders.schema:ORDERS"


def backfill(live_settings, tmp_path, *args: str) -> CliRun:
    env = {"AWS_REGION": live_settings.region, "AWS_ENDPOINT_URL": live_settings.endpoint_url}
    return run_backfill(*args, cwd=tmp_path, env=cli_env(env))


def test_the_cli_migrates_and_verifies_the_orders_table(dynamodb, live_settings, tmp_path):
    # given a legacy order with one item
    dynamodb.put_item(TableName="orders", Item={"customerId": {"S": "c-1"}, "orderId": {"S": "o-1"},
                                                "state": {"S": "paid"}, "placedAt": {"N": "1767225000000"}})
    dynamodb.put_item(TableName="order_items", Item={"orderId": {"S": "o-1"}, "lineId": {"S": "l-1"},
                                                     "customerId": {"S": "c-1"}})
    # when the CLI migrates with the orders declaration, then verifies
    migrated = backfill(live_settings, tmp_path, SCHEMA, "migrate", "--yes")
    verified = backfill(live_settings, tmp_path, SCHEMA, "verify")
    # then both succeed and the order is current, read back raw
    assert migrated.exit_code == 0, migrated.output
    assert verified.exit_code == 0, verified.output
    item = dynamodb.get_item(TableName="orders", Key={"customerId": {"S": "c-1"}, "orderId": {"S": "o-1"}})["Item"]
    assert item["state"] == {"S": "placed"} and item["itemCount"] == {"N": "1"} and item["modelVersion"] == {"N": "2"}


def test_tables_whose_keys_are_not_the_declared_ones_are_refused_before_anything_runs(dynamodb, live_settings, tmp_path):
    # when the declaration's order_items is pointed at the orders table (another key)
    run = backfill(live_settings, tmp_path, SCHEMA, "migrate", "--dry-run", "--table", "order_items=orders")
    # then one line names the declaration, the table and both keys; exit 2; nothing written
    assert run.exit_code == 2, run.output
    assert run.errors() == ["Error: declaration examples.orders.schema:ORDERS: table orders has key "
                            "(customerId, orderId), the declaration says (orderId, lineId)"]
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize(("reference", "problem"), [
    ("examples.orders.nothing:ORDERS", "module examples.orders.nothing does not import: ModuleNotFoundError"),
    ("examples.orders.schema:ORDER", "module examples.orders.schema has no ORDER"),
    ("examples.orders.schema:ORDER_ITEMS", "ORDER_ITEMS is a Source, not a Schema"),
    ("tests.support.malformed_declaration:SCHEMA", "field visibility: required with a default, but not owned"),
])
def test_a_declaration_that_cannot_be_loaded_is_one_error_line(reference, problem, tmp_path):
    run = run_backfill(f"--schema={reference}", "control", "x", "status", cwd=tmp_path, env=cli_env())
    assert run.exit_code == 2
    [line] = run.errors()
    assert line.startswith(f"Error: declaration {reference}: {problem}")


def broken(**changes):
    return problems_of(ORDERS, **changes)


def test_an_unusable_declaration_names_each_problem():
    assert broken(key=None) == ["key is missing: give key=Key(partition[, sort])"]
    assert broken(key=Key("customerId", "lineNo")) == ["key attribute lineNo is not declared as a Kind.KEY field"]
    assert broken(fields=(*ORDERS.fields, Field("total", "money"))) == [  # type: ignore[arg-type]
        "field total has unknown kind 'money' (known: STRING, KEY, BOOLEAN, TIMESTAMP, COUNT, CHOICE, STRING_SET)"]
    source = Source("order_items", Key("orderId", "lineId"))
    assert broken(aggregates=(CountOf("itemCount", source, ("orderId",), "itemsVersion"),)) == [
        "aggregate itemCount: group_by ['orderId'] must name one source attribute per key attribute of "
        "orders (customerId, orderId)"]
    assert broken(aggregates=()) == ["field itemCount is supplied=True but no aggregate is named itemCount"]
    assert broken(aggregates=ORDERS.aggregates * 2) == ["2 aggregates: a declaration keeps at most one exact for now"]
    assert broken(status_field=None) == ["shippedAt has required_from but the declaration has no status_field"]


def test_the_status_workflow_is_optional():
    # given orders declared without a workflow: state a plain string, no date that needs one
    fields = tuple(Field("state", Kind.STRING) if f.name == "state" else f for f in ORDERS.fields if f.name != "shippedAt")
    plain = replace(ORDERS, status_field=None, fields=fields)
    assert declaration_problems(plain) == [] and plain.workflow == ()
    # when a legacy order is upgraded by each declaration
    order = {"customerId": "c-1", "orderId": "o-1", "state": "sent", "placedAt": Decimal(1767225000000)}
    with_workflow = upgrade_item(order, aggregates={"itemCount": 1}, schema=ORDERS)
    without = upgrade_item(order, aggregates={"itemCount": 1}, schema=plain)
    # then only the workflow maps and dates the state; the rest of the rule applies to both
    assert with_workflow["state"] == "shipped" and with_workflow["shippedAt"] == 1767225000000
    assert without["state"] == "sent" and "shippedAt" not in without
    assert without["currency"] == with_workflow["currency"] == "EUR" and without["itemCount"] == 1


def test_declaration_error_is_one_line():
    error = DeclarationError("pkg.mod:X", "key is missing")
    assert str(error) == "declaration pkg.mod:X: key is missing" and "\n" not in str(error)


APP_ENV = {
    "DYNAMO_EVOLVE_SCHEMA": "examples.orders.schema:ORDERS",
    "ORDERS_TABLE": "dev-orders", "ORDER_ITEMS_TABLE": "dev-order-items", "FAILURES_TABLE": "dev-failures",
    "ORDERS_STREAM_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/dev-orders/stream/1",
    "ORDER_ITEMS_STREAM_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/dev-order-items/stream/1",
}
LIST_SOURCES = "import json, app; print(json.dumps({s.name: s.stream_arn for s in app.app.event_sources}))"


def import_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import app.py as Chalice does when it packages or deploys, in a fresh process."""
    return subprocess.run([sys.executable, "-c", LIST_SOURCES], cwd=REPO, env=cli_env(env),
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_chalice_app_registers_one_stream_handler_per_declared_table():
    done = import_app(APP_ENV)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"orders_stream": APP_ENV["ORDERS_STREAM_ARN"],
                                       "order_items_stream": APP_ENV["ORDER_ITEMS_STREAM_ARN"]}


def test_the_chalice_app_names_a_missing_table_setting():
    done = import_app({**APP_ENV, "ORDER_ITEMS_TABLE": ""})
    assert done.returncode != 0 and "ORDER_ITEMS_TABLE not set" in done.stderr


def test_the_lambda_refuses_a_malformed_declaration_at_its_cold_start_in_one_line():
    # when the Lambda (app.py, as Chalice imports it) is given a declaration the check refuses
    done = import_app({**APP_ENV, "DYNAMO_EVOLVE_SCHEMA": "tests.support.malformed_declaration:SCHEMA"})
    # then it does not start, and the last line names the declaration, the field and the problem
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "chalicelib.schema.errors.DeclarationError: declaration tests.support.malformed_declaration:SCHEMA: field "
        "visibility: required with a default, but not owned: the migration would never write the default, and "
        "every item would stay invalid")


def test_init_tables_creates_the_declared_tables_with_their_keys(live_settings, orders, tmp_path):
    # given an endpoint with no tables (no dynamodb fixture here)
    # when init-tables runs with the orders declaration
    run = backfill(live_settings, tmp_path, SCHEMA, "init-tables")
    # then each declared table exists with its declared key and a stream, read back with DescribeTable
    assert run.exit_code == 0, run.output
    client = boto3.client("dynamodb", region_name=live_settings.region, endpoint_url=live_settings.endpoint_url)
    keys = {}
    for table in ("orders", "order_items"):
        described = client.describe_table(TableName=table)["Table"]
        keys[table] = [(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]]
        assert described["StreamSpecification"]["StreamEnabled"] is True
    assert keys == {"orders": [("customerId", "HASH"), ("orderId", "RANGE")],
                    "order_items": [("orderId", "HASH"), ("lineId", "RANGE")]}
